"""Pydantic models for what the ticket API accepts and returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from .models import (
    ADDRESS_LENGTH,
    EMAIL_LENGTH,
    PHONE_LENGTH,
    TEXT_LENGTH,
    Channel,
    RecordState,
    Residence,
    Sender,
    Stage,
    Ticket,
    TicketKind,
    TicketStatus,
)

MAX_RECORD_ITEMS = 50
MAX_TRANSCRIPT_ENTRIES = 2000
MAX_MESSAGE_LENGTH = 10_000
MAX_OFFSET = 1_000_000_000


def _reject_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _to_utc(value: datetime) -> datetime:
    """Express an aware datetime in UTC."""
    return value.astimezone(UTC)


ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_LENGTH), AfterValidator(_reject_nul)
]
Phone = Annotated[
    str,
    StringConstraints(max_length=PHONE_LENGTH, pattern=r"^\+?[0-9][0-9 ()./-]{2,}$"),
]
Email = Annotated[
    str,
    StringConstraints(max_length=EMAIL_LENGTH, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(_reject_nul),
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
RecordItem = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
ChannelAddress = Annotated[
    str, StringConstraints(min_length=1, max_length=ADDRESS_LENGTH), AfterValidator(_reject_nul)
]
MessageText = Annotated[
    str, StringConstraints(max_length=MAX_MESSAGE_LENGTH), AfterValidator(_reject_nul)
]
UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class InputModel(BaseModel):
    """Base for request bodies: unknown fields are errors, whitespace is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(InputModel):
    """How reception can reach the patient."""

    name: ShortText | None = None
    phone: Phone
    email: Email | None = None
    preferred_time: ShortText | None = None


class TranscriptEntry(InputModel):
    """One line of the conversation that led to the ticket."""

    at: UTCDatetime
    sender: Sender
    text: MessageText


class TicketCreate(InputModel):
    """The body of POST /api/v1/tickets."""

    kind: TicketKind = TicketKind.REQUEST
    cancer_type: ShortText | None = None
    department: ShortText | None = None
    stage: Stage | None = None
    residence: Residence | None = None
    records: dict[RecordItem, RecordState] = Field(
        default_factory=dict, max_length=MAX_RECORD_ITEMS
    )
    language: Language
    contact: Contact
    channel: Channel
    channel_address: ChannelAddress
    transcript: list[TranscriptEntry] = Field(
        default_factory=list, max_length=MAX_TRANSCRIPT_ENTRIES
    )


class TicketListQuery(InputModel):
    """The query string of GET /api/v1/tickets."""

    status: TicketStatus | None = None
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class ContactOut(BaseModel):
    """Contact details as returned by the API."""

    name: str | None
    phone: str | None
    email: str | None
    preferred_time: str | None


class TicketOut(BaseModel):
    """A ticket as returned by the API."""

    reference: str
    kind: str
    status: str
    cancer_type: str | None
    department: str | None
    stage: str | None
    residence: str | None
    records: dict[str, str]
    language: str
    contact: ContactOut
    channel: str
    channel_address: str
    transcript: list[TranscriptEntry]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> Self:
        """Build the API view of a stored ticket."""
        return cls(
            reference=ticket.reference,
            kind=ticket.kind,
            status=ticket.status,
            cancer_type=ticket.cancer_type,
            department=ticket.department,
            stage=ticket.stage,
            residence=ticket.residence,
            records=ticket.records,
            language=ticket.language,
            contact=ContactOut(
                name=ticket.contact_name,
                phone=ticket.contact_phone,
                email=ticket.contact_email,
                preferred_time=ticket.contact_preferred_time,
            ),
            channel=ticket.channel,
            channel_address=ticket.channel_address,
            transcript=[TranscriptEntry.model_validate(entry) for entry in ticket.transcript],
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )


class TicketPage(BaseModel):
    """One page of GET /api/v1/tickets."""

    items: list[TicketOut]
    total: int
    limit: int
    offset: int

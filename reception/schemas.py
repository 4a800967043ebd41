"""Pydantic models for what the ticket API accepts and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, InitErrorDetails

from conversation_id import Channel

from . import wording
from .funnel import STEPS
from .models import (
    ADDRESS_LENGTH,
    EMAIL_LENGTH,
    PHONE_LENGTH,
    TEXT_LENGTH,
    ActorType,
    Attachment,
    Delivery,
    FollowUp,
    GapIntent,
    RecordLabel,
    RecordState,
    Residence,
    ScanResult,
    Sender,
    Stage,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketKind,
    TicketNote,
    TicketOrder,
    TicketStatus,
)
from .service_levels import Clock, ClockState, Target

MAX_RECORD_ITEMS = 50
MAX_TRANSCRIPT_ENTRIES = 2000
MAX_MESSAGE_LENGTH = 10_000
MAX_OFFSET = 1_000_000_000
MAX_NOTE_LENGTH = 5_000
MAX_STAFF_MESSAGE_LENGTH = 3_500
UNASSIGNED = "none"


# What the trimming of whitespace removes (Unicode White_Space), for the JSON schema's patterns.
_WHITESPACE = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NUL_FREE = r"^[^\u0000]*$"
HAS_TEXT = f"[^{_WHITESPACE}]"


@dataclass(frozen=True, slots=True)
class Checked:
    """Tell the JSON schema what the validators check: no NUL character, and some text."""

    needs_text: bool = False

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Add the patterns that the after-validators and whitespace trimming enforce."""
        schema = handler(core_schema)
        patterns = [NUL_FREE, HAS_TEXT] if self.needs_text else [NUL_FREE]
        schema.setdefault("allOf", []).extend({"pattern": pattern} for pattern in patterns)
        return schema


def _reject_nul(value: str) -> str:
    """Refuse NUL characters, which PostgreSQL cannot store."""
    if "\x00" in value:
        raise ValueError(wording.text("schema_nul_character"))
    return value


def _lower(value: str) -> str:
    """Compare e-mail addresses without regard to case."""
    return value.lower()


def _to_utc(value: datetime) -> datetime:
    """Express an aware datetime in UTC."""
    return value.astimezone(UTC)


ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TEXT_LENGTH),
    AfterValidator(_reject_nul),
    Checked(needs_text=True),
]
Phone = Annotated[
    str,
    StringConstraints(max_length=PHONE_LENGTH, pattern=r"^\+?[0-9][0-9 ()./-]{2,}$"),
]
EMAIL_ADDRESS = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EMAIL_PATTERN = rf"^{EMAIL_ADDRESS}$"
Email = Annotated[
    str,
    StringConstraints(max_length=EMAIL_LENGTH, pattern=EMAIL_PATTERN),
    AfterValidator(_reject_nul),
    Checked(),
]
StaffEmail = Annotated[Email, AfterValidator(_lower)]
AssigneeFilter = Annotated[
    str,
    StringConstraints(max_length=EMAIL_LENGTH, pattern=rf"^(?:{UNASSIGNED}|{EMAIL_ADDRESS})$"),
    AfterValidator(_reject_nul),
    AfterValidator(_lower),
    Checked(),
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
FunnelStep = Annotated[
    str,
    StringConstraints(pattern=f"^(?:{'|'.join(STEPS)})$"),
    WithJsonSchema({"type": "string", "enum": list(STEPS)}),
]
RecordItem = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
ChannelAddress = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ADDRESS_LENGTH),
    AfterValidator(_reject_nul),
    Checked(needs_text=True),
]
MessageText = Annotated[
    str, StringConstraints(max_length=MAX_MESSAGE_LENGTH), AfterValidator(_reject_nul), Checked()
]
UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
NoteText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NOTE_LENGTH),
    AfterValidator(_reject_nul),
    Checked(needs_text=True),
]
StaffMessageText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_STAFF_MESSAGE_LENGTH),
    AfterValidator(_reject_nul),
    Checked(needs_text=True),
]
SearchText = Annotated[
    str, StringConstraints(max_length=TEXT_LENGTH), AfterValidator(_reject_nul), Checked()
]


class InputModel(BaseModel):
    """Base for request bodies: unknown fields are errors, whitespace is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(InputModel):
    """How reception can reach the patient (a callback request may come without a phone)."""

    name: ShortText | None = None
    phone: Phone | None = None
    email: Email | None = None
    preferred_time: ShortText | None = None


class TranscriptEntry(InputModel):
    """One line of the conversation that led to the ticket."""

    at: UTCDatetime
    sender: Literal[Sender.PATIENT, Sender.BOT]
    text: MessageText


# contact.phone is required unless kind is "callback"; the JSON schema says so too.
_PHONE_RULE: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": TicketKind.CALLBACK.value}}, "required": ["kind"]},
    "then": {},
    "else": {
        "properties": {
            "contact": {"required": ["phone"], "properties": {"phone": {"type": "string"}}}
        }
    },
}


class TicketCreate(InputModel):
    """The body of POST /api/v1/tickets."""

    model_config = ConfigDict(json_schema_extra=_PHONE_RULE)

    kind: TicketKind = TicketKind.REQUEST
    cancer_type: ShortText | None = None
    department: ShortText | None = None
    stage: Stage | None = None
    residence: Residence | None = None
    records: dict[RecordItem, RecordState] = Field(
        default_factory=dict,
        max_length=MAX_RECORD_ITEMS,
        json_schema_extra={"additionalProperties": False},  # keys must match the pattern
    )
    language: Language
    contact: Contact
    channel: Channel
    channel_address: ChannelAddress
    transcript: list[TranscriptEntry] = Field(
        default_factory=list, max_length=MAX_TRANSCRIPT_ENTRIES
    )

    @model_validator(mode="wrap")
    @classmethod
    def _phone_for_requests(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Require contact.phone unless kind is callback, reported with any other problem."""
        contact = _contact_without_phone(data)
        try:
            model = handler(data)
        except ValidationError as exc:
            if contact is None:
                raise
            raise _add_missing_phone(exc.errors(), contact) from None
        if contact is not None:
            raise _add_missing_phone([], contact)
        return model


def _contact_without_phone(data: Any) -> dict[str, Any] | None:
    """Return the contact of a full request that lacks a phone number, else None."""
    if not isinstance(data, dict) or data.get("kind", TicketKind.REQUEST.value) != "request":
        return None
    contact = data.get("contact")
    if isinstance(contact, dict) and contact.get("phone") is None:
        return contact
    return None


def _add_missing_phone(errors: list[Any], contact: dict[str, Any]) -> ValidationError:
    """Return a validation error with contact.phone reported missing among the others."""
    line_errors: list[InitErrorDetails] = []
    for error in errors:
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        line_errors.append(detail)
    line_errors.append(InitErrorDetails(type="missing", loc=("contact", "phone"), input=contact))
    return ValidationError.from_exception_data(TicketCreate.__name__, line_errors)


class TicketListQuery(InputModel):
    """The query string of GET /api/v1/tickets."""

    status: TicketStatus | None = None
    department: ShortText | None = None
    assignee: AssigneeFilter | None = Field(
        default=None, description=f"A staff e-mail, or '{UNASSIGNED}' for unassigned tickets."
    )
    channel: Channel | None = None
    channel_address: ChannelAddress | None = None
    q: SearchText | None = Field(
        default=None, description="Text to find in the reference or the patient's name."
    )
    overdue: bool = Field(
        default=False, description="Only tickets with a service level already overdue."
    )
    sort: Literal[TicketOrder.NEWEST, TicketOrder.DUE] = Field(
        default=TicketOrder.NEWEST,
        description="'newest' first, or the soonest 'due' first (tickets with no clock last).",
    )
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class TicketUpdate(InputModel):
    """The body of PATCH /api/v1/tickets/{reference}: a new status, an assignee, or both."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    status: TicketStatus | SkipJsonSchema[None] = None
    assignee: StaffEmail | None = Field(
        default=None, description="A staff member's e-mail; null unassigns the ticket."
    )

    @field_validator("status", mode="before")
    @classmethod
    def _status_is_not_null(cls, value: Any) -> Any:
        """Refuse an explicit null status: leave the field out to keep the status."""
        if value is None:
            raise ValueError(wording.text("schema_null_status"))
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        """Refuse an empty update."""
        if not self.model_fields_set:
            raise ValueError(wording.text("schema_empty_update"))
        return self

    @property
    def changes_assignee(self) -> bool:
        """Tell whether the body names an assignee (null included)."""
        return "assignee" in self.model_fields_set


class NoteCreate(InputModel):
    """The body of POST /api/v1/tickets/{reference}/notes."""

    text: NoteText


class MessageCreate(InputModel):
    """The body of POST /api/v1/tickets/{reference}/messages: text for the patient."""

    text: StaffMessageText


class GapCreate(InputModel):
    """The body of POST /api/v1/gaps: a question the assistant did not understand.

    Nothing about who asked: no sender, no channel address.
    """

    text: MessageText = Field(description="The question; one with a phone or e-mail is dropped.")
    language: Language
    intent: GapIntent


class ConversationRef(InputModel):
    """A conversation, as the patient-facing side names it: its channel and address there."""

    channel: Channel
    channel_address: ChannelAddress


class ErasureCreate(ConversationRef):
    """The body of POST /api/v1/erasures: the conversation whose tickets are to be anonymised."""


class FollowUpCreate(ConversationRef):
    """The body of POST /api/v1/follow-ups: a conversation's answer about reminders."""

    follow_up: FollowUp = Field(
        description="wanted (yes at the handoff), declined (no at the handoff) or stopped."
    )


class FollowUpChanged(BaseModel):
    """The open requests of the conversation whose answer changed."""

    changed: list[str] = Field(description="The references of the tickets changed.")


class FollowUpOut(BaseModel):
    """Reminders to the patient while records are missing."""

    state: FollowUp | None = Field(description="The patient's answer; null if never asked.")
    sent: int = Field(description="How many reminders reached the bot.")
    flagged_at: datetime | None = Field(
        description="When the last reminder went, or could not go, with records still missing."
    )


class ErasureOut(BaseModel):
    """The tickets whose personal data was erased (none, if the conversation had none)."""

    erased: list[str] = Field(description="The references of the anonymised tickets.")


class FunnelStepCreate(InputModel):
    """The body of POST /api/v1/funnel: a step one conversation reached, and its language.

    Nothing else: no conversation id, no channel, no time of day; reception counts it for today.
    """

    step: FunnelStep = Field(
        description=(
            "A milestone (conversation, consent, request_started), or the slot of a request "
            "form question (data/request_form.yml) when it is first asked."
        )
    )
    language: Language


class TopicAskedCreate(InputModel):
    """The body of POST /api/v1/topics-asked: the FAQ topic a patient asked about, and the language.

    Nothing else: no conversation id, no question, no time of day; reception counts it for today.
    """

    topic: str = Field(
        pattern=r"^[a-z0-9_]{1,64}$",
        description="The topic's id: its file name in content/<lang>/faq/, without .md.",
    )
    language: Language


class FunnelOut(BaseModel):
    """What became of a reported step."""

    status: Literal["counted"]


class GapOut(BaseModel):
    """What became of a reported question."""

    status: Literal["recorded", "dropped"]


class ContactOut(BaseModel):
    """Contact details as returned by the API."""

    name: str | None
    phone: str | None
    email: str | None
    preferred_time: str | None


def _is_none(value: object) -> bool:
    """Tell whether a field is unset, to leave it out of the JSON (patients' and bot's lines)."""
    return value is None


class TranscriptEntryOut(BaseModel):
    """One line of the conversation, patient, bot or staff; a staff line says its delivery."""

    at: datetime
    sender: Sender
    text: str
    id: str | None = Field(default=None, exclude_if=_is_none)
    delivery: Delivery | None = Field(default=None, exclude_if=_is_none)


class NoteOut(BaseModel):
    """An internal note as returned by the API."""

    id: int
    at: datetime
    author: str
    text: str

    @classmethod
    def from_note(cls, note: TicketNote) -> Self:
        """Build the API view of a stored note."""
        return cls(id=note.id, at=note.created_at, author=note.author, text=note.text)


class ServiceLevelOut(BaseModel):
    """One service-level clock of a ticket, as it stands when the ticket is read."""

    target: Target = Field(
        description="first_contact: a first message or the ticket taken in hand; "
        "records_decision: a decision once the records are in."
    )
    state: ClockState = Field(description="paused while the ticket waits for records")
    due_at: datetime | None = Field(description="When it falls due, while it runs.")
    business_seconds_left: int | None = Field(
        description="Business time left, below 0 when overdue; null once the clock stopped."
    )
    overdue: bool

    @classmethod
    def from_clock(cls, clock: Clock) -> Self:
        """Build the API view of a clock."""
        left = None if clock.seconds_left is None else round(clock.seconds_left)
        return cls(
            target=clock.target,
            state=clock.state,
            due_at=clock.due_at,
            business_seconds_left=left,
            overdue=clock.overdue,
        )


class AttachmentQuery(ConversationRef):
    """The query of POST /api/v1/attachments: whose request the file joins, and what it holds."""

    label: RecordLabel | None = Field(
        default=None, description="What the file holds; left out, reception guesses from its type."
    )


class AttachmentLabelQuery(InputModel):
    """The query of POST /api/v1/upload-links/{token}/attachments: what the file holds."""

    label: RecordLabel | None = None


class AttachmentRelabel(InputModel):
    """The body of PATCH /api/v1/attachments/{id}: what the file holds, as the patient says."""

    label: RecordLabel


class AttachmentOut(BaseModel):
    """A file the patient sent into their request. Its name is never kept."""

    id: str
    label: RecordLabel
    label_guessed: bool = Field(description="True while the label is reception's guess.")
    content_type: str = Field(description="The type found in the file's bytes.")
    size: int = Field(description="In bytes.")
    received_at: datetime
    scan: ScanResult = Field(
        description="clean; infected (quarantined, never opened); pending (scanned later)."
    )

    @classmethod
    def from_attachment(cls, attachment: Attachment) -> Self:
        """Build the API view of a stored file."""
        return cls(
            id=attachment.id,
            label=RecordLabel(attachment.label),
            label_guessed=attachment.label_guessed,
            content_type=attachment.content_type,
            size=attachment.size,
            received_at=attachment.received_at,
            scan=ScanResult(attachment.scan),
        )


class AttachmentReceived(BaseModel):
    """A file received: the request it joined, the patient's language, and the file."""

    reference: str
    language: str
    attachment: AttachmentOut


class AttachmentChanged(BaseModel):
    """A file whose label changed."""

    attachment: AttachmentOut


class UploadLinkCreate(ConversationRef):
    """The body of POST /api/v1/upload-links: the conversation whose request gets a link."""


class UploadLinkOut(BaseModel):
    """A new upload link: the token is given out this once and never stored."""

    token: str
    expires_at: datetime
    reference: str
    language: str


class UploadLinkState(BaseModel):
    """What an upload link leads to; looking never uses it up."""

    expires_at: datetime
    reference: str
    language: str
    attachments: list[AttachmentOut]


class TicketOut(BaseModel):
    """A ticket as returned by the API."""

    reference: str
    kind: TicketKind
    status: TicketStatus
    cancer_type: str | None
    department: str | None
    stage: str | None
    residence: str | None
    records: dict[str, str]
    language: str
    contact: ContactOut
    channel: str
    channel_address: str
    transcript: list[TranscriptEntryOut]
    assignee: str | None
    notes: list[NoteOut]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = Field(description="When the ticket was closed or cancelled.")
    erased_at: datetime | None = Field(
        description="When its personal data was erased; the ticket then holds none."
    )
    service_levels: list[ServiceLevelOut] = Field(
        description="The service-level clocks, counted in business hours."
    )
    follow_up: FollowUpOut
    attachments: list[AttachmentOut] = Field(description="The files the patient sent.")

    @classmethod
    def from_ticket(cls, ticket: Ticket, clocks: list[Clock]) -> Self:
        """Build the API view of a stored ticket and its clocks."""
        return cls(
            reference=ticket.reference,
            kind=TicketKind(ticket.kind),
            status=TicketStatus(ticket.status),
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
            transcript=[TranscriptEntryOut.model_validate(entry) for entry in ticket.transcript],
            assignee=ticket.assignee.email if ticket.assignee else None,
            notes=[NoteOut.from_note(note) for note in ticket.notes],
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            closed_at=ticket.closed_at,
            erased_at=ticket.erased_at,
            service_levels=[ServiceLevelOut.from_clock(clock) for clock in clocks],
            follow_up=FollowUpOut(
                state=None if ticket.follow_up is None else FollowUp(ticket.follow_up),
                sent=ticket.follow_ups_sent,
                flagged_at=ticket.follow_up_flagged_at,
            ),
            attachments=[AttachmentOut.from_attachment(file) for file in ticket.attachments],
        )


class TicketPage(BaseModel):
    """One page of GET /api/v1/tickets."""

    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class EventOut(BaseModel):
    """One entry of a ticket's audit log."""

    at: datetime
    actor_type: ActorType
    actor: str
    action: TicketAction
    old_value: str | None
    new_value: str | None

    @classmethod
    def from_event(cls, event: TicketEvent) -> Self:
        """Build the API view of a stored audit event."""
        return cls(
            at=event.at,
            actor_type=ActorType(event.actor_type),
            actor=event.actor,
            action=TicketAction(event.action),
            old_value=event.old_value,
            new_value=event.new_value,
        )


class History(BaseModel):
    """GET /api/v1/tickets/{reference}/history: the audit log, oldest first."""

    items: list[EventOut]


class ErrorDetail(BaseModel):
    """One problem with a request, tied to a field when there is one."""

    field: str
    loc: list[str | int]
    message: str
    type: str


class ErrorBody(BaseModel):
    """What went wrong, as a stable code and a readable message."""

    code: str
    message: str
    details: list[ErrorDetail]


class ErrorResponse(BaseModel):
    """Every error answer of the API."""

    error: ErrorBody

"""Database models and the vocabulary of a reception ticket."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, MetaData, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

REFERENCE_PATTERN = re.compile(r"SO-\d{4}-\d{5,}")

# Column widths, shared with the API schemas so that valid input always fits.
REFERENCE_LENGTH = 32
LABEL_LENGTH = 32
TEXT_LENGTH = 200
PHONE_LENGTH = 40
EMAIL_LENGTH = 254
ADDRESS_LENGTH = 255
IDEMPOTENCY_KEY_LENGTH = 255


class TicketKind(StrEnum):
    """What the patient asked reception for."""

    REQUEST = "request"
    CALLBACK = "callback"


class TicketStatus(StrEnum):
    """Where a ticket stands in reception's work."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_RECORDS = "waiting_for_records"
    APPOINTMENT_SCHEDULED = "appointment_scheduled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Stage(StrEnum):
    """Where the patient is in their illness."""

    JUST_DIAGNOSED = "just_diagnosed"
    IN_TREATMENT = "in_treatment"
    RECURRENCE = "recurrence"
    AFTER_TREATMENT = "after_treatment"


class Residence(StrEnum):
    """Where the patient lives, which changes the paperwork."""

    BELGIUM = "belgium"
    ABROAD = "abroad"


class RecordState(StrEnum):
    """How far the patient is with one item of the records checklist."""

    HAVE = "have"
    REQUESTED = "requested"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"


class Channel(StrEnum):
    """The channel the patient wrote from."""

    TELEGRAM = "telegram"
    WEBCHAT = "webchat"


class Sender(StrEnum):
    """Who wrote a line of the transcript."""

    PATIENT = "patient"
    BOT = "bot"


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def format_reference(created_at: datetime, ticket_id: int) -> str:
    """Return the human-readable reference of a ticket, e.g. SO-2026-00042."""
    return f"SO-{created_at.astimezone(UTC).year}-{ticket_id:05d}"


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and always read them back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC before storing; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite gives back without a zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Ticket(Base):
    """A patient's request handed over to reception."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(LABEL_LENGTH), default=TicketKind.REQUEST.value)
    status: Mapped[str] = mapped_column(String(LABEL_LENGTH), default=TicketStatus.NEW.value)
    cancer_type: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    department: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    stage: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    residence: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    records: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    language: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    contact_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    contact_phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))
    contact_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    contact_preferred_time: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    channel: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    channel_address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        """Show the reference and status only, never patient details."""
        return f"<Ticket {self.reference} {self.status}>"

"""Database models and the vocabulary of a reception ticket."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

REFERENCE_PATTERN = re.compile(r"SO-\d{4}-\d{5,}")

# Column widths, shared with the API schemas so that valid input always fits.
REFERENCE_LENGTH = 32
LABEL_LENGTH = 32
TEXT_LENGTH = 200
PHONE_LENGTH = 40
EMAIL_LENGTH = 254
ADDRESS_LENGTH = 255
IDEMPOTENCY_KEY_LENGTH = 255
PASSWORD_HASH_LENGTH = 255
SESSION_ID_LENGTH = 64
QUESTION_LENGTH = 300
TOPIC_LENGTH = 64
UUID_LENGTH = 36
TOKEN_HASH_LENGTH = 64  # a SHA-256, in hexadecimal


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


# The status workflow. in_progress may go straight to appointment_scheduled: a patient who
# already sent every record has nothing to wait for. Closed and cancelled are final.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CANCELLED}),
    TicketStatus.IN_PROGRESS: frozenset(
        {
            TicketStatus.WAITING_FOR_RECORDS,
            TicketStatus.APPOINTMENT_SCHEDULED,
            TicketStatus.CANCELLED,
        }
    ),
    TicketStatus.WAITING_FOR_RECORDS: frozenset(
        {TicketStatus.APPOINTMENT_SCHEDULED, TicketStatus.CANCELLED}
    ),
    TicketStatus.APPOINTMENT_SCHEDULED: frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED}),
    TicketStatus.CLOSED: frozenset(),
    TicketStatus.CANCELLED: frozenset(),
}
OPEN_STATUSES = tuple(status for status, targets in TRANSITIONS.items() if targets)
FINAL_STATUSES = tuple(status for status, targets in TRANSITIONS.items() if not targets)


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


# The records checklist's states that mean the patient has not sent the record yet.
MISSING_RECORDS = frozenset({RecordState.NOT_YET.value, RecordState.UNKNOWN.value})


class FollowUp(StrEnum):
    """Whether the patient wants reminders while records are missing (absent: never asked)."""

    WANTED = "wanted"
    DECLINED = "declined"  # said no when asked at the handoff
    STOPPED = "stopped"  # said stop, or withdrew consent


class Sender(StrEnum):
    """Who wrote a line of the transcript."""

    PATIENT = "patient"
    BOT = "bot"
    STAFF = "staff"


class Delivery(StrEnum):
    """Where a staff message to the patient stands: waiting for the bot, taken, or refused."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Tell whether nothing more will happen to the message."""
        return self is not Delivery.QUEUED


class StaffRole(StrEnum):
    """What a staff account may do: reception works tickets, admin also manages accounts."""

    RECEPTION = "reception"
    ADMIN = "admin"
    EDITOR = "editor"

    @property
    def works_tickets(self) -> bool:
        """Tell whether this role may change tickets, not only read them."""
        return self in (StaffRole.RECEPTION, StaffRole.ADMIN)

    @property
    def edits_content(self) -> bool:
        """Tell whether this role may preview the content and work the gap report."""
        return self in (StaffRole.EDITOR, StaffRole.ADMIN)


class ActorType(StrEnum):
    """Who made a change: a signed-in staff member, or a service holding the API token."""

    STAFF = "staff"
    SERVICE = "service"


class TicketOrder(StrEnum):
    """How a ticket list is sorted."""

    NEWEST = "newest"  # newest first
    NEW_FIRST = "new_first"  # status new first, then newest first
    DUE = "due"  # the soonest due first; tickets with no clock running last


class TicketAction(StrEnum):
    """What an audit event records."""

    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    ASSIGNEE_CHANGED = "assignee_changed"
    NOTE_ADDED = "note_added"
    MESSAGE_SENT = "message_sent"
    REMINDER_SET = "reminder_set"  # a member of staff asked to be reminded of the ticket
    FOLLOW_UP_CHANGED = "follow_up_changed"  # the patient asked for reminders, or stopped them
    FOLLOW_UP_SENT = "follow_up_sent"  # the patient was reminded of missing records (1, 2…)
    FILE_RECEIVED = "file_received"  # a record arrived (its label and type, never its name)
    FILE_RELABELLED = "file_relabelled"  # the patient or staff changed what a file holds
    FILE_VIEWED = "file_viewed"  # a member of staff opened a file in the page
    FILE_DOWNLOADED = "file_downloaded"  # a member of staff downloaded a file
    UPLOAD_LINK_ISSUED = "upload_link_issued"  # the patient got a link to send files
    ERASED = "erased"  # personal data anonymised at the patient's request
    PURGED = "purged"  # personal data anonymised once the retention period ended


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def format_reference(created_at: datetime, ticket_id: int) -> str:
    """Return the human-readable reference of a ticket, e.g. SO-2026-00042."""
    return f"SO-{created_at.astimezone(UTC).year}-{ticket_id:05d}"


class RecordLabel(StrEnum):
    """What a file the patient sent holds: an item of the records checklist, or something else."""

    REPORTS = "reports"
    IMAGING = "imaging"
    PATHOLOGY = "pathology"
    BLOOD = "blood"
    OTHER = "other"


class ScanResult(StrEnum):
    """What the virus scanner said of a file; only a clean file can be opened by staff."""

    PENDING = "pending"  # not scanned yet (the scanner was unavailable): scanned again later
    CLEAN = "clean"
    INFECTED = "infected"  # quarantined: kept for the audit, never opened


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


class StaffUser(Base):
    """A member of staff who signs in to the inbox."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    name: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    role: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language reception speaks to this member of staff: en, fr or nl.
    language: Mapped[str] = mapped_column(String(LABEL_LENGTH), default="en", server_default="en")

    def __repr__(self) -> str:
        """Show the id and role only."""
        return f"<StaffUser {self.id} {self.role}>"


class StaffSession(Base):
    """A signed-in browser; the cookie holds a token whose SHA-256 is the id."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(SESSION_ID_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(SESSION_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[StaffUser] = relationship(lazy="joined")


class Ticket(Base):
    """A patient's request handed over to reception."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_department", "department"),
        Index("ix_tickets_channel_address", "channel", "channel_address"),
        Index("ix_tickets_closed_at", "closed_at"),
        Index("ix_tickets_due_at", "due_at"),
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
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The service-level clocks' facts (see service_levels.py): when each stopped, when the
    # ticket waited for records ([from, until] in ISO 8601), and the next due time they give.
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSONDocument, default=list)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reminders to the patient while records are missing (see follow_ups.py): whether they
    # want them, how many went out, and when the last one went without the records coming.
    follow_up: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    # When the patient's last file came (the records clock starts again from it).
    last_file_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follow_ups_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    follow_up_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    assignee: Mapped[StaffUser | None] = relationship(lazy="selectin")
    notes: Mapped[list[TicketNote]] = relationship(
        lazy="selectin",
        order_by="TicketNote.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="selectin",
        order_by="(Attachment.received_at, Attachment.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        """Show the reference and status only, never patient details."""
        return f"<Ticket {self.reference} {self.status}>"


class TicketNote(Base):
    """An internal note that staff left on a ticket; the patient never sees it."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_type: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketEvent(Base):
    """One line of a ticket's audit log: who changed what, when, from which value to which."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    action: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class GapIntent(StrEnum):
    """Why a patient's question went to the gap report."""

    NOT_UNDERSTOOD = "nlu_fallback"
    OUT_OF_SCOPE = "out_of_scope"


REMINDER_LENGTH = 500


class StaffReminder(Base):
    """A member of staff's reminder to themselves about a ticket ("call back Thursday")."""

    __tablename__ = "staff_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    text: Mapped[str] = mapped_column(String(REMINDER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        """Show the id and when it is due, never the text."""
        return f"<StaffReminder {self.id} due {self.due_at.isoformat()}>"


class ContentGap(Base):
    """A question the assistant did not understand, kept without who asked it."""

    __tablename__ = "content_gaps"
    __table_args__ = (Index("ix_content_gaps_normalised", "normalised", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(QUESTION_LENGTH))
    normalised: Mapped[str] = mapped_column(String(QUESTION_LENGTH))
    language: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    intent: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    topic: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))

    def __repr__(self) -> str:
        """Show the id and intent only, never the question."""
        return f"<ContentGap {self.id} {self.intent}>"


class FunnelMilestone(StrEnum):
    """How far a conversation got before the request form asked its first question."""

    CONVERSATION = "conversation"  # a conversation began
    CONSENT = "consent"  # the patient agreed to the privacy notice
    REQUEST_STARTED = "request_started"  # the patient chose to ask for a second opinion


class FunnelCount(Base):
    """How many conversations reached a step before the handoff, on one day, in one language.

    A count and nothing else: no conversation, no channel, no time of day.
    """

    __tablename__ = "funnel_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # in the business calendar's zone
    step: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    language: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    reached: Mapped[int] = mapped_column(Integer)


class TopicCount(Base):
    """How many times patients asked about one FAQ topic, on one day, in one language.

    A count and nothing else: no conversation, no question, no time of day.
    """

    __tablename__ = "topic_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # in the business calendar's zone
    topic: Mapped[str] = mapped_column(String(TOPIC_LENGTH), primary_key=True)
    language: Mapped[str] = mapped_column(String(LABEL_LENGTH), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer)


class RecordKey(Base):
    """The key that encrypts one ticket's files, itself encrypted with the service's key.

    Destroying this row makes the ticket's files unreadable, wherever a copy of them lies.
    """

    __tablename__ = "record_keys"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """A file the patient sent into their request, stored encrypted under the ticket's key.

    The file's name is never kept: staff see its label, type, size and when it came.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_ticket_id", "ticket_id"),)

    id: Mapped[str] = mapped_column(String(UUID_LENGTH), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    label_guessed: Mapped[bool] = mapped_column(Boolean, default=False)
    content_type: Mapped[str] = mapped_column(String(LABEL_LENGTH * 4))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    scan: Mapped[str] = mapped_column(String(LABEL_LENGTH), default=ScanResult.PENDING.value)
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For a DICOM file: the study, series and instance it belongs to, and the patient's name
    # as the file gives it (shown beside the ticket's, to catch a file of someone else).
    dicom: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # What the patient-facing side sent it under, so that sending it again adds nothing.
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)


class UploadLink(Base):
    """The link a patient sends files through, for one request; only its hash is kept."""

    __tablename__ = "upload_links"

    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

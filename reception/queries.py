"""Query functions for tickets: they take a session, keep the audit log, and raise domain errors."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from .models import (
    FINAL_STATUSES,
    REFERENCE_PATTERN,
    TRANSITIONS,
    ActorType,
    Delivery,
    Sender,
    StaffRole,
    StaffUser,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketNote,
    TicketOrder,
    TicketStatus,
    format_reference,
    utcnow,
)
from .schemas import UNASSIGNED, TicketCreate
from .service_levels import DEFAULT_LEVELS, ServiceLevels, note_contact, note_status_change
from .wording import CodedError

CHANGE_ATTEMPTS = 20

Change = Callable[[Ticket], Awaitable[None] | None]


class TicketNotFound(CodedError, LookupError):
    """No ticket has the given reference."""

    code = "ticket_not_found"


class TransitionNotAllowed(CodedError, ValueError):
    """The workflow does not lead from the ticket's status to the one asked for."""

    code = "transition_not_allowed"

    def __init__(self, current: str, wanted: TicketStatus) -> None:
        """Keep the refused move and the moves that are allowed."""
        allowed = [status.value for status in allowed_next(current)]
        super().__init__(current=current, wanted=wanted.value, allowed=allowed)


class UnknownAssignee(CodedError, LookupError):
    """No active reception or admin account has the given e-mail."""

    code = "unknown_assignee"


class TicketErased(CodedError, RuntimeError):
    """The ticket's personal data was erased: reception can no longer reach the patient."""

    code = "ticket_erased"


class TicketChanged(CodedError, RuntimeError):
    """Others kept changing the ticket while this change was being saved."""

    code = "ticket_changed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a change, as the audit log records it."""

    type: ActorType
    label: str
    user_id: int | None = None

    @classmethod
    def service(cls) -> Actor:
        """Return the actor for a service that holds the API token."""
        return cls(ActorType.SERVICE, ActorType.SERVICE.value)

    @classmethod
    def staff(cls, user: StaffUser) -> Actor:
        """Return the actor for a signed-in member of staff."""
        return cls(ActorType.STAFF, user.email, user.id)


@dataclass(frozen=True, slots=True)
class TicketCreation:
    """The outcome of a create call: the ticket, and whether it is new."""

    ticket: Ticket
    created: bool


@dataclass(frozen=True, slots=True)
class TicketSlice:
    """One page of tickets and how many match in total."""

    items: list[Ticket]
    total: int


@dataclass(frozen=True, slots=True)
class TicketFilters:
    """What a ticket list is narrowed to; empty fields do not filter."""

    statuses: tuple[TicketStatus, ...] = ()
    department: str | None = None
    assignee: str | None = None
    channel: str | None = None
    channel_address: str | None = None
    text: str | None = None
    overdue_at: datetime | None = None  # only tickets whose next due time is before this


def allowed_next(status: str) -> list[TicketStatus]:
    """Return the statuses a ticket may move to from this one, in workflow order."""
    targets = TRANSITIONS.get(TicketStatus(status), frozenset())
    return [candidate for candidate in TicketStatus if candidate in targets]


async def create_ticket(
    session: AsyncSession,
    data: TicketCreate,
    idempotency_key: str | None = None,
    levels: ServiceLevels = DEFAULT_LEVELS,
) -> TicketCreation:
    """Create a ticket, or return the one already created under the same idempotency key."""
    if idempotency_key is not None:
        existing = await find_ticket_by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return TicketCreation(existing, created=False)
    try:
        ticket = await _insert_ticket(session, data, idempotency_key, levels)
        return TicketCreation(ticket, created=True)
    except IntegrityError:
        await session.rollback()
        if idempotency_key is None:
            raise
        existing = await find_ticket_by_idempotency_key(session, idempotency_key)
        if existing is None:
            raise
        return TicketCreation(existing, created=False)


async def find_ticket_by_idempotency_key(session: AsyncSession, key: str) -> Ticket | None:
    """Return the ticket created under an idempotency key, if any."""
    return await session.scalar(select(Ticket).where(Ticket.idempotency_key == key))


async def get_ticket(session: AsyncSession, reference: str, *, fresh: bool = False) -> Ticket:
    """Return the ticket with a reference, or raise TicketNotFound."""
    ticket = None
    if REFERENCE_PATTERN.fullmatch(reference):
        query = select(Ticket).where(Ticket.reference == reference)
        if fresh:
            query = query.execution_options(populate_existing=True)
        ticket = await session.scalar(query)
    if ticket is None:
        raise TicketNotFound(reference=reference)
    return ticket


async def list_tickets(
    session: AsyncSession,
    filters: TicketFilters | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    order: TicketOrder = TicketOrder.NEWEST,
) -> TicketSlice:
    """Return a page of the tickets matching the filters, in the order asked for."""
    conditions = _conditions(filters or TicketFilters())
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
    sort: list[Any] = [Ticket.created_at.desc(), Ticket.id.desc()]
    if order is TicketOrder.NEW_FIRST:
        sort.insert(0, case((Ticket.status == TicketStatus.NEW.value, 0), else_=1))
    elif order is TicketOrder.DUE:
        sort[:0] = [Ticket.due_at.is_(None), Ticket.due_at]
    page = await session.scalars(
        select(Ticket).where(*conditions).order_by(*sort).limit(limit).offset(offset)
    )
    return TicketSlice(items=list(page), total=total or 0)


async def list_departments(session: AsyncSession) -> list[str]:
    """Return every department some ticket is routed to, sorted."""
    rows = await session.scalars(
        select(Ticket.department).where(Ticket.department.is_not(None)).distinct()
    )
    return sorted(department for department in rows if department)


async def update_ticket(
    session: AsyncSession,
    reference: str,
    actor: Actor,
    *,
    status: TicketStatus | None = None,
    assign: bool = False,
    assignee: str | None = None,
    levels: ServiceLevels = DEFAULT_LEVELS,
) -> Ticket:
    """Move a ticket along the workflow and/or (re)assign it, recording both in the audit log."""
    await get_ticket(session, reference)  # an unknown ticket is reported before a bad assignee
    person = await _assignable(session, assignee) if assign else None

    def apply(ticket: Ticket) -> None:
        """Check the transition first, then change what differs."""
        if status is not None and status.value != ticket.status:
            if status not in TRANSITIONS[TicketStatus(ticket.status)]:
                raise TransitionNotAllowed(ticket.status, status)
            record_event(session, ticket, actor, TicketAction.STATUS_CHANGED, ticket.status, status)
            now = utcnow()
            ticket.status = status.value
            if status in FINAL_STATUSES:
                ticket.closed_at = now
            note_status_change(ticket, status, now)
            ticket.due_at = levels.next_due(ticket, now)
        if assign and ticket.assignee_id != (person.id if person else None):
            old = ticket.assignee.email if ticket.assignee else None
            new = person.email if person else None
            record_event(session, ticket, actor, TicketAction.ASSIGNEE_CHANGED, old, new)
            ticket.assignee = person

    return await change_ticket(session, reference, apply)


async def add_note(session: AsyncSession, reference: str, text: str, actor: Actor) -> TicketNote:
    """Add an internal note to a ticket and record it in the audit log."""
    note = TicketNote(author_type=actor.type.value, author_id=actor.user_id, author=actor.label)

    def apply(ticket: Ticket) -> None:
        """Attach the note and touch the ticket."""
        note.text = text
        note.created_at = utcnow()
        ticket.notes.append(note)
        ticket.updated_at = note.created_at
        record_event(session, ticket, actor, TicketAction.NOTE_ADDED, None, text)

    await change_ticket(session, reference, apply)
    return note


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """A message staff wrote to a ticket's patient: its id, its words, and when it was written."""

    id: str
    text: str
    at: str  # ISO 8601, UTC


async def add_staff_message(
    session: AsyncSession,
    reference: str,
    message: StaffMessage,
    actor: Actor,
    delivery: Delivery,
    levels: ServiceLevels = DEFAULT_LEVELS,
) -> dict[str, Any] | None:
    """Keep a staff message in the transcript, or move it on to a later delivery state.

    The first time a message is kept (queued or delivered), it is appended and audited, and it
    counts as contact with the patient. Later calls only move its state forward: a delivered
    message never goes back to queued. A failed message that was never kept stays out.
    """
    kept: dict[str, Any] | None = None

    def apply(ticket: Ticket) -> None:
        """Append or update the line, unless the ticket was erased meanwhile."""
        nonlocal kept
        if ticket.erased_at is not None:
            raise TicketErased()
        lines = list(ticket.transcript)
        for index, line in enumerate(lines):
            if line.get("id") == message.id:
                if not Delivery(line.get("delivery", Delivery.DELIVERED)).final:
                    lines[index] = {**line, "delivery": delivery.value}
                    ticket.transcript = lines
                kept = lines[index]
                return
        if delivery is Delivery.FAILED:
            return
        kept = {
            "at": message.at,
            "sender": Sender.STAFF.value,
            "text": message.text,
            "id": message.id,
            "delivery": delivery.value,
        }
        ticket.transcript = [*lines, kept]
        record_event(session, ticket, actor, TicketAction.MESSAGE_SENT, None, message.text)
        written = datetime.fromisoformat(message.at)
        note_contact(ticket, written)
        ticket.due_at = levels.next_due(ticket, utcnow())

    await change_ticket(session, reference, apply)
    return kept


async def ticket_history(session: AsyncSession, ticket: Ticket) -> list[TicketEvent]:
    """Return a ticket's audit log, oldest first."""
    events = await session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return list(events)


async def change_ticket(session: AsyncSession, reference: str, apply: Change) -> Ticket:
    """Apply a change to the latest version of a ticket, retrying if someone else saved first."""
    for _ in range(CHANGE_ATTEMPTS):
        ticket = await get_ticket(session, reference, fresh=True)
        outcome = apply(ticket)
        if inspect.isawaitable(outcome):
            await outcome
        try:
            await session.commit()
        except StaleDataError:
            await session.rollback()
            continue
        return ticket
    raise TicketChanged()


async def _assignable(session: AsyncSession, email: str | None) -> StaffUser | None:
    """Return the active account that can take tickets, by e-mail; None means nobody."""
    if email is None:
        return None
    user = await session.scalar(
        select(StaffUser).where(StaffUser.email == email.lower(), StaffUser.active.is_(True))
    )
    if user is None or not StaffRole(user.role).works_tickets:
        raise UnknownAssignee()
    return user


def record_event(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    action: TicketAction,
    old: str | None,
    new: str | None,
) -> None:
    """Add one audit event for a ticket to the session."""
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=utcnow(),
            actor_type=actor.type.value,
            actor_id=actor.user_id,
            actor=actor.label,
            action=action.value,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
        )
    )


def _conditions(filters: TicketFilters) -> list[ColumnElement[bool]]:
    """Turn list filters into SQL conditions."""
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Ticket.status.in_([status.value for status in filters.statuses]))
    if filters.department:
        conditions.append(Ticket.department == filters.department)
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    if filters.channel_address:
        conditions.append(Ticket.channel_address == filters.channel_address)
    if filters.assignee:
        conditions.append(_assignee_condition(filters.assignee))
    if filters.text:
        conditions.append(_text_condition(filters.text))
    if filters.overdue_at:
        conditions.append(Ticket.due_at < filters.overdue_at)
    return conditions


def _assignee_condition(assignee: str) -> ColumnElement[bool]:
    """Match unassigned tickets, or those of the account with this e-mail."""
    if assignee == UNASSIGNED:
        return Ticket.assignee_id.is_(None)
    account = select(StaffUser.id).where(StaffUser.email == assignee.lower())
    return Ticket.assignee_id.in_(account)


def _text_condition(text: str) -> ColumnElement[bool]:
    """Match the text anywhere in the reference or the patient's name, ignoring case."""
    return or_(
        Ticket.reference.icontains(text, autoescape=True),
        Ticket.contact_name.icontains(text, autoescape=True),
    )


async def _insert_ticket(
    session: AsyncSession, data: TicketCreate, idempotency_key: str | None, levels: ServiceLevels
) -> Ticket:
    """Insert a ticket, give it its reference once its id is known, audit it, and commit."""
    ticket = _new_ticket(data, idempotency_key)
    ticket.due_at = levels.next_due(ticket, ticket.created_at)
    session.add(ticket)
    await session.flush()
    ticket.reference = format_reference(ticket.created_at, ticket.id)
    record_event(session, ticket, Actor.service(), TicketAction.CREATED, None, ticket.kind)
    await session.commit()
    return ticket


def _new_ticket(data: TicketCreate, idempotency_key: str | None) -> Ticket:
    """Build an unsaved ticket from a validated request, with a provisional reference."""
    now = utcnow()
    return Ticket(
        reference=uuid.uuid4().hex,
        kind=data.kind.value,
        status=TicketStatus.NEW.value,
        cancer_type=data.cancer_type,
        department=data.department,
        stage=None if data.stage is None else data.stage.value,
        residence=None if data.residence is None else data.residence.value,
        records={item: state.value for item, state in data.records.items()},
        language=data.language,
        contact_name=data.contact.name,
        contact_phone=data.contact.phone,
        contact_email=data.contact.email,
        contact_preferred_time=data.contact.preferred_time,
        channel=data.channel.value,
        channel_address=data.channel_address,
        transcript=[entry.model_dump(mode="json") for entry in data.transcript],
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
        pauses=[],
        assignee=None,
        notes=[],
        attachments=[],
    )


async def refresh_due_times(session: AsyncSession, levels: ServiceLevels) -> int:
    """Work out every open ticket's next due time again (the targets or hours may have changed).

    The ticket is not otherwise touched: its version and `updated_at` stay. Return how many
    tickets changed.
    """
    now = utcnow()
    tickets = list(await session.scalars(select(Ticket).where(Ticket.closed_at.is_(None))))
    changed = 0
    for ticket in tickets:
        due = levels.next_due(ticket, now)
        if due != ticket.due_at:
            await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id)
                .values(due_at=due, updated_at=Ticket.updated_at)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    await session.commit()
    return changed

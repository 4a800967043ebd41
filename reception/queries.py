"""Query functions for tickets: they take a session and raise domain errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import REFERENCE_PATTERN, Ticket, TicketStatus, format_reference, utcnow
from .schemas import TicketCreate


class TicketNotFound(LookupError):
    """No ticket has the given reference."""

    def __init__(self, reference: str) -> None:
        """Remember which reference was looked up."""
        super().__init__(reference)
        self.reference = reference


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


async def create_ticket(
    session: AsyncSession, data: TicketCreate, idempotency_key: str | None = None
) -> TicketCreation:
    """Create a ticket, or return the one already created under the same idempotency key."""
    if idempotency_key is not None:
        existing = await find_ticket_by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return TicketCreation(existing, created=False)
    try:
        return TicketCreation(await _insert_ticket(session, data, idempotency_key), created=True)
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


async def get_ticket(session: AsyncSession, reference: str) -> Ticket:
    """Return the ticket with a reference, or raise TicketNotFound."""
    ticket = None
    if REFERENCE_PATTERN.fullmatch(reference):
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == reference))
    if ticket is None:
        raise TicketNotFound(reference)
    return ticket


async def list_tickets(
    session: AsyncSession,
    *,
    status: TicketStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> TicketSlice:
    """Return a page of tickets, newest first, optionally with one status only."""
    conditions = [] if status is None else [Ticket.status == status.value]
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
    page = await session.scalars(
        select(Ticket)
        .where(*conditions)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return TicketSlice(items=list(page), total=total or 0)


async def _insert_ticket(
    session: AsyncSession, data: TicketCreate, idempotency_key: str | None
) -> Ticket:
    """Insert a ticket, give it its reference once its id is known, and commit."""
    ticket = _new_ticket(data, idempotency_key)
    session.add(ticket)
    await session.flush()
    ticket.reference = format_reference(ticket.created_at, ticket.id)
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
    )

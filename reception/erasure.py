"""Erasing a patient's personal data from tickets: at their request, or when retention ends.

An anonymised ticket keeps what reception needs to count and audit its work: reference, kind,
status, department, language, channel, timestamps, idempotency key, the notes (without their
text) and every audit event (without the patient's or staff's words). Everything else that
describes the patient goes: contact details, transcript, cancer type, stage, residence and
records checklist (health data is special-category data), and the channel address, so the
patient's chat no longer finds the ticket. Staff messages still waiting for the bot, and staff
reminders, are dropped. The files the patient sent lose their key, rows and upload links in the
same transaction, so they can never be read again; `Records.sweep` then deletes them from disk.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation_id import Channel
from outbox import erase_lane_statement

from . import attachments, queries, reminders
from .models import (
    FINAL_STATUSES,
    ActorType,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketStatus,
    utcnow,
)
from .staff_messages import STAFF_QUEUE

logger = logging.getLogger(__name__)

RETENTION_ACTOR = queries.Actor(ActorType.SERVICE, "retention")

# Audit events whose values are statuses, kinds, staff e-mails or moments; any other event's
# values (a note's text, a message to the patient) are blanked.
EVENTS_WITH_KEPT_VALUES = frozenset(
    {
        TicketAction.CREATED.value,
        TicketAction.STATUS_CHANGED.value,
        TicketAction.ASSIGNEE_CHANGED.value,
        TicketAction.REMINDER_SET.value,
        TicketAction.FOLLOW_UP_CHANGED.value,
        TicketAction.FOLLOW_UP_SENT.value,
        TicketAction.ERASED.value,
        TicketAction.PURGED.value,
    }
)


async def anonymise_ticket(
    session: AsyncSession, reference: str, actor: queries.Actor, action: TicketAction
) -> bool:
    """Erase a ticket's personal data and audit it; True the first time, False after that."""
    first = False

    async def apply(ticket: Ticket) -> None:
        """Record the erasure once, then blank everything personal (again, harmlessly)."""
        nonlocal first
        events = await queries.ticket_history(session, ticket)
        first = ticket.erased_at is None
        if first:
            _record_erasure(session, ticket, actor, action)
        _blank_ticket(ticket)
        _blank_events(events)
        await session.execute(erase_lane_statement(reference, [STAFF_QUEUE]))
        await session.execute(reminders.forget_statement(ticket))
        await attachments.forget(session, ticket.id)

    await queries.change_ticket(session, reference, apply)
    return first


async def erase_conversation(session: AsyncSession, channel: Channel, address: str) -> list[str]:
    """Anonymise every ticket of one conversation, at the patient's request; return them."""
    references = list(
        await session.scalars(
            select(Ticket.reference)
            .where(Ticket.channel == channel.value, Ticket.channel_address == address)
            .order_by(Ticket.id)
        )
    )
    await session.commit()  # end the read; each ticket is then changed on its own
    for reference in references:
        await anonymise_ticket(session, reference, queries.Actor.service(), TicketAction.ERASED)
    logger.info("tickets erased at the patient's request: %d", len(references))
    return references


async def purge_closed_tickets(session: AsyncSession, closed_before: datetime) -> list[str]:
    """Anonymise the tickets closed or cancelled before a moment and not yet erased."""
    references = list(
        await session.scalars(
            select(Ticket.reference)
            .where(
                Ticket.status.in_([status.value for status in FINAL_STATUSES]),
                Ticket.closed_at < closed_before,
                Ticket.erased_at.is_(None),
            )
            .order_by(Ticket.id)
        )
    )
    await session.commit()
    return [
        reference
        for reference in references
        if await anonymise_ticket(session, reference, RETENTION_ACTOR, TicketAction.PURGED)
    ]


def _record_erasure(
    session: AsyncSession, ticket: Ticket, actor: queries.Actor, action: TicketAction
) -> None:
    """Cancel an open ticket (nobody can reach the patient now), and audit the erasure."""
    now = utcnow()
    if TicketStatus(ticket.status) not in FINAL_STATUSES:
        cancelled = TicketStatus.CANCELLED
        queries.record_event(
            session, ticket, actor, TicketAction.STATUS_CHANGED, ticket.status, cancelled
        )
        ticket.status = cancelled.value
        ticket.closed_at = now
    queries.record_event(session, ticket, actor, action, None, None)
    ticket.erased_at = now
    ticket.updated_at = now


def _blank_ticket(ticket: Ticket) -> None:
    """Remove the patient's details, health data, conversation and address, and note texts."""
    ticket.contact_name = None
    ticket.contact_phone = None
    ticket.contact_email = None
    ticket.contact_preferred_time = None
    ticket.cancer_type = None
    ticket.stage = None
    ticket.residence = None
    ticket.records = {}
    ticket.transcript = []
    ticket.channel_address = ""
    for note in ticket.notes:
        note.text = ""


def _blank_events(events: list[TicketEvent]) -> None:
    """Blank the values of audit events that hold someone's words; keep the events."""
    for event in events:
        if event.action in EVENTS_WITH_KEPT_VALUES:
            continue
        if event.old_value is not None:
            event.old_value = ""
        if event.new_value is not None:
            event.new_value = ""

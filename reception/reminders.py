"""Staff reminders: a member of staff asks to be reminded of a ticket at a moment ("call back
Thursday"), and the inbox shows it to them from then on until they mark it done.

A reminder belongs to the one who set it; the ticket page shows everyone's open reminders, so
a colleague covering sees what was planned. Setting one goes into the ticket's audit log (the
moment, not the words). Erasing the ticket deletes its reminders: their words may describe
the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Delete

from . import queries
from .models import StaffReminder, StaffUser, Ticket, TicketAction, utcnow
from .wording import CodedError


class ReminderInThePast(CodedError, ValueError):
    """A reminder must be due after now."""

    code = "reminder_in_the_past"


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder that is due, with the reference of its ticket."""

    reminder: StaffReminder
    reference: str


async def set_reminder(
    session: AsyncSession, reference: str, user: StaffUser, due_at: datetime, text: str
) -> StaffReminder:
    """Remind a member of staff of a ticket at due_at, and audit it."""
    if due_at <= utcnow():
        raise ReminderInThePast(due=due_at.isoformat())
    reminder = StaffReminder(staff_id=user.id, due_at=due_at, text=text)

    def apply(ticket: Ticket) -> None:
        """Attach the reminder to the ticket and audit when it is due."""
        reminder.ticket_id = ticket.id
        reminder.created_at = utcnow()
        session.add(reminder)
        queries.record_event(
            session,
            ticket,
            queries.Actor.staff(user),
            TicketAction.REMINDER_SET,
            None,
            due_at.isoformat(),
        )

    await queries.change_ticket(session, reference, apply)
    return reminder


async def open_reminders(session: AsyncSession, ticket: Ticket) -> list[tuple[StaffReminder, str]]:
    """The ticket's reminders not done yet, soonest first, with who set them."""
    rows = await session.execute(
        select(StaffReminder, StaffUser.email)
        .join(StaffUser, StaffUser.id == StaffReminder.staff_id)
        .where(StaffReminder.ticket_id == ticket.id, StaffReminder.done_at.is_(None))
        .order_by(StaffReminder.due_at, StaffReminder.id)
    )
    return [(reminder, email) for reminder, email in rows]


async def due_reminders(session: AsyncSession, user: StaffUser, now: datetime) -> list[DueReminder]:
    """A member of staff's reminders that are due and not done, oldest first."""
    rows = await session.execute(
        select(StaffReminder, Ticket.reference)
        .join(Ticket, Ticket.id == StaffReminder.ticket_id)
        .where(
            StaffReminder.staff_id == user.id,
            StaffReminder.done_at.is_(None),
            StaffReminder.due_at <= now,
        )
        .order_by(StaffReminder.due_at, StaffReminder.id)
    )
    return [DueReminder(reminder, reference) for reminder, reference in rows]


async def finish_reminder(session: AsyncSession, reminder_id: int, user: StaffUser) -> bool:
    """Mark one of the member of staff's own reminders done; False if it is not theirs."""
    result = await session.execute(
        update(StaffReminder)
        .where(
            StaffReminder.id == reminder_id,
            StaffReminder.staff_id == user.id,
            StaffReminder.done_at.is_(None),
        )
        .values(done_at=utcnow())
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def forget_statement(ticket: Ticket) -> Delete:
    """The DELETE of a ticket's reminders, for its erasure's transaction."""
    return delete(StaffReminder).where(StaffReminder.ticket_id == ticket.id)

"""Reminders to patients whose records are still missing, for those who asked for them.

At the handoff, a patient with records still to gather is asked whether they want a reminder;
the action server tells reception the answer (`POST /api/v1/follow-ups`), and a "stop" under any
reminder, withdrawing consent or erasing (`/delete`) ends them.

A pass (`remind_once`, run with the retention job, or `python -m reception remind --as-of …`)
sends the n-th reminder once the n-th period since the handoff has passed and a record is still
missing, at most `most` times, and only during business hours: a lock screen lights up on a
weekday at the desk's hours, never on a Saturday night or a public holiday. The period is the
legal delay for a hospital to hand over a copy of the records (content/reference.yml,
`records.legal_delay_days`), unless RECEPTION_FOLLOW_UP_DAYS says otherwise.

A reminder's text is generic, because lock screens show it: no diagnosis, only the reference. It
reaches the bot with the key `follow-up:<reference>:<n>`, which the bot delivers once, so a pass
stopped between the delivery and its record, or two reception processes running a pass at the
same moment, still reach the patient once. After the last reminder the ticket is flagged for
staff to call the patient.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contentlib import ContentStore
from contentlib.store import DEFAULT_LANGUAGE
from conversation_id import Channel
from deliveries import DeliveryButton, PatientMessage

from . import queries
from .bot_client import BotClient, DeliveryFailed
from .models import (
    FollowUp,
    RecordState,
    Ticket,
    TicketAction,
    TicketKind,
    TicketStatus,
    utcnow,
)
from .service_levels import BusinessCalendar
from .wording import CodedError

logger = logging.getLogger(__name__)

# The statuses in which reception still waits for the patient's records.
AWAITING_RECORDS = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_FOR_RECORDS)
# What the reminder's buttons send to Rasa: intents of data/domain/intents.yml.
SHOW_MISSING_PAYLOAD = "/ask_status"  # the status, then the records still missing
STOP_PAYLOAD = "/stop_reminders"
SEND_RECORDS_PAYLOAD = "/send_records"  # a fresh upload link: no token ever shows on a lock screen
PAYLOADS = (SHOW_MISSING_PAYLOAD, SEND_RECORDS_PAYLOAD, STOP_PAYLOAD)
RECORDS_SECTION, DELAY_FACT = "records", "legal_delay_days"


class FollowUpPeriodUnknown(CodedError, ValueError):
    """Neither the settings nor the content say how long to wait before a reminder."""

    code = "follow_up_period_unknown"

    def __init__(self, found: object) -> None:
        """Keep where the period should be and what was found there."""
        super().__init__(section=RECORDS_SECTION, fact=DELAY_FACT, found=found)


@dataclass(frozen=True)
class FollowUpPolicy:
    """How often and how many times a patient is reminded, and when they may be."""

    every_days: int | None = None  # None: the legal delay in the content's reference facts
    most: int = 2
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def period(self, store: ContentStore) -> timedelta:
        """The time between the handoff and the first reminder, and between reminders."""
        if self.every_days is not None:
            return timedelta(days=self.every_days)
        records = store.reference(DEFAULT_LANGUAGE).get(RECORDS_SECTION)
        days = records.get(DELAY_FACT) if isinstance(records, dict) else None
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise FollowUpPeriodUnknown(days)
        return timedelta(days=days)


def still_missing(ticket: Ticket) -> list[str]:
    """The records checklist's items the patient does not have yet."""
    return [item for item, state in ticket.records.items() if state != RecordState.HAVE.value]


async def set_follow_up(
    session: AsyncSession, channel: Channel, address: str, state: FollowUp
) -> list[str]:
    """Record a conversation's answer on its open requests; return the references changed."""
    references = list(
        await session.scalars(
            select(Ticket.reference)
            .where(
                Ticket.channel == channel.value,
                Ticket.channel_address == address,
                Ticket.kind == TicketKind.REQUEST.value,
                Ticket.status.in_([status.value for status in AWAITING_RECORDS]),
                Ticket.erased_at.is_(None),
            )
            .order_by(Ticket.id)
        )
    )
    await session.commit()
    changed = []
    for reference in references:

        def apply(ticket: Ticket) -> None:
            """Change the ticket's answer and audit it, unless it says so already."""
            nothing_to_stop = state is FollowUp.STOPPED and ticket.follow_up != FollowUp.WANTED
            if ticket.follow_up == state.value or nothing_to_stop:
                return
            _change(session, ticket, state)
            if ticket.reference not in changed:
                changed.append(ticket.reference)

        await queries.change_ticket(session, reference, apply)
    return changed


async def remind_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: BotClient,
    store: ContentStore,
    policy: FollowUpPolicy,
    as_of: datetime | None = None,
) -> list[str]:
    """Send every reminder due at `as_of` (now by default); return the references reminded."""
    now = as_of or utcnow()
    if not policy.calendar.is_open(now):
        return []
    period = policy.period(store)
    async with sessionmaker() as session:
        due = [
            ticket
            for ticket in await session.scalars(
                select(Ticket)
                .where(
                    Ticket.follow_up == FollowUp.WANTED.value,
                    Ticket.follow_ups_sent < policy.most,
                    Ticket.status.in_([status.value for status in AWAITING_RECORDS]),
                    Ticket.erased_at.is_(None),
                )
                .order_by(Ticket.id)
            )
            if now >= ticket.created_at + period * (ticket.follow_ups_sent + 1)
            and still_missing(ticket)
        ]
        messages = [(ticket.follow_ups_sent + 1, reminder(store, ticket)) for ticket in due]
        await session.commit()
        reminded = []
        for number, message in messages:
            if await _remind(session, bot, message, number, last=number >= policy.most, now=now):
                reminded.append(message.reference)
    if reminded:
        logger.info("follow-ups: patients reminded: %d", len(reminded))
    return reminded


def reminder(store: ContentStore, ticket: Ticket) -> PatientMessage:
    """The reminder for a ticket's patient, in their language, with its three buttons."""
    language = store.language_or_default(ticket.language)
    return PatientMessage(
        ticket.channel,
        ticket.channel_address,
        str(store.text("follow_up_reminder", language, reference=ticket.reference)),
        ticket.reference,
        language,
        "assistant",
        (
            DeliveryButton(str(store.text("follow_up.missing", language)), SHOW_MISSING_PAYLOAD),
            DeliveryButton(str(store.text("records_link_button", language)), SEND_RECORDS_PAYLOAD),
            DeliveryButton(str(store.text("follow_up.stop", language)), STOP_PAYLOAD),
        ),
    )


async def _remind(
    session: AsyncSession,
    bot: BotClient,
    message: PatientMessage,
    number: int,
    *,
    last: bool,
    now: datetime,
) -> bool:
    """Deliver one reminder, then record it; True when the bot took it."""
    try:
        await bot.deliver(message, idempotency_key=f"follow-up:{message.reference}:{number}")
    except DeliveryFailed as error:
        if not error.lasting:
            logger.warning("follow-ups: the bot is unavailable; the next pass tries again")
            return False
        logger.warning("follow-ups: the bot refused a reminder; the ticket goes to staff")
        await _record(session, message.reference, number, now, delivered=False)
        return False
    await _record(session, message.reference, number, now, delivered=True, last=last)
    return True


async def _record(
    session: AsyncSession,
    reference: str,
    number: int,
    now: datetime,
    *,
    delivered: bool,
    last: bool = False,
) -> None:
    """Count a reminder as sent (once, whoever records it first), flagging the last one."""

    def apply(ticket: Ticket) -> None:
        """Move the count on to `number`, unless another pass did already."""
        if ticket.follow_ups_sent >= number:
            return
        if delivered:
            queries.record_event(
                session,
                ticket,
                queries.Actor.service(),
                TicketAction.FOLLOW_UP_SENT,
                str(ticket.follow_ups_sent),
                str(number),
            )
            ticket.follow_ups_sent = number
        else:
            _change(session, ticket, FollowUp.STOPPED)
        if last or not delivered:
            ticket.follow_up_flagged_at = now

    await queries.change_ticket(session, reference, apply)


def _change(session: AsyncSession, ticket: Ticket, state: FollowUp) -> None:
    """Give a ticket's reminders a new state, and audit it."""
    actor = queries.Actor.service()
    action = TicketAction.FOLLOW_UP_CHANGED
    queries.record_event(session, ticket, actor, action, ticket.follow_up, state.value)
    ticket.follow_up = state.value

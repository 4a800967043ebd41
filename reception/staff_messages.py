"""Staff messages to patients: kept in reception's outbox until the bot has taken them.

Sending writes the message to the outbox first (queue `staff_messages`, one lane per ticket, so
a patient reads a ticket's messages in the order staff wrote them), then waits a few seconds
for the first attempt. What staff hear:
- delivered: the bot took it; the transcript shows it as delivered;
- queued: the bot is down or busy; the transcript shows it as queued, and the worker keeps
  trying with back-off, across restarts, until the bot takes it (then: delivered);
- refused: the bot will never take it (an address it does not know, say); nothing is kept, and
  staff see why.
The bot gets the job's key as its Idempotency-Key, so a retry after a lost answer, or after a
restart in the middle of a delivery, never reaches the patient twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deliveries import PatientMessage
from outbox import Backoff, GiveUp, Job, Outbox, Purger, RetryLater, Waiters, Worker

from . import queries
from .bot_client import BotClient, DeliveryFailed
from .models import ActorType, Delivery, utcnow
from .service_levels import ServiceLevels

STAFF_QUEUE = "staff_messages"
KEEP_SECONDS = 7 * 86_400.0
# Staff are waiting to see "delivered": try at least every 15 s while the bot is down.
RETRY = Backoff(base_seconds=1.0, cap_seconds=15.0)


@dataclass(frozen=True)
class Sent:
    """What became of a staff message by the time staff get their answer."""

    state: Literal["delivered", "queued", "refused"]
    entry: dict[str, Any] | None = None
    error: DeliveryFailed | None = None


class StaffMessages:
    """Send staff messages through the outbox, and deliver the outbox to the bot."""

    def __init__(
        self,
        outbox: Outbox,
        bot: BotClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        levels: ServiceLevels,
        wait_seconds: float,
    ) -> None:
        """Deliver with this bot client; let senders wait up to wait_seconds for an answer."""
        self.outbox = outbox
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.levels = levels
        self.wait_seconds = wait_seconds
        self.worker = Worker(outbox, STAFF_QUEUE, self._deliver, backoff=RETRY)
        self.purger = Purger(outbox, KEEP_SECONDS)
        self._waiters: Waiters[Sent] = Waiters()

    async def start(self) -> None:
        """Start delivering, beginning with what was queued when reception last stopped."""
        await self.worker.start()
        await self.purger.start()

    async def stop(self) -> None:
        """Stop delivering; what is not delivered yet stays queued."""
        await self.purger.stop()
        await self.worker.stop()

    async def send(
        self, session: AsyncSession, reference: str, text: str, actor: queries.Actor
    ) -> Sent:
        """Queue a message to the patient of a ticket, then wait briefly for the bot."""
        ticket = await queries.get_ticket(session, reference)
        if ticket.erased_at is not None:
            raise queries.TicketErased()
        await session.commit()  # end the read transaction before waiting on the network
        message_id = uuid.uuid4().hex
        payload = {
            "id": message_id,
            "reference": reference,
            "text": text,
            "at": utcnow().isoformat(),
            "actor": {"type": actor.type.value, "label": actor.label, "user_id": actor.user_id},
        }
        key = f"staff:{message_id}"
        self._waiters.expect(key)
        job = await self.outbox.put(STAFF_QUEUE, reference, payload, key=key)
        self.worker.wake()
        sent = await self._waiters.wait(key, self.wait_seconds)
        if sent is not None:
            return sent
        entry = await self._keep(session, job, Delivery.QUEUED)
        return Sent("queued", entry)

    async def _deliver(self, job: Job) -> None:
        """One attempt at handing a message to the bot."""
        async with self.sessionmaker() as session:
            try:
                ticket = await queries.get_ticket(session, job.payload["reference"])
            except queries.TicketNotFound:
                raise GiveUp("ticket_not_found") from None
            if ticket.erased_at is not None:
                raise GiveUp("ticket_erased")
            channel, address, language = ticket.channel, ticket.channel_address, ticket.language
            await session.commit()
            try:
                message = PatientMessage(
                    channel,
                    address,
                    job.payload["text"],
                    job.payload["reference"],
                    language,
                    "staff",
                )
                await self.bot.deliver(message, idempotency_key=job.key or f"staff:{job.id}")
            except DeliveryFailed as error:
                await self._failed(session, job, error)
            entry = await self._keep(session, job, Delivery.DELIVERED)
        self._waiters.answer(job.key, Sent("delivered", entry))

    async def _failed(self, session: AsyncSession, job: Job, error: DeliveryFailed) -> None:
        """Keep the message queued and retry, or give it up when the bot refuses it for good."""
        if error.lasting:
            await self._keep(session, job, Delivery.FAILED)
            self._waiters.answer(job.key, Sent("refused", error=error))
            raise GiveUp(error.code)
        entry = await self._keep(session, job, Delivery.QUEUED)
        self._waiters.answer(job.key, Sent("queued", entry))
        raise RetryLater(error.code)

    async def _keep(
        self, session: AsyncSession, job: Job, delivery: Delivery
    ) -> dict[str, Any] | None:
        """Put the message in the transcript, or move it on to a later delivery state."""
        actor = job.payload["actor"]
        return await queries.add_staff_message(
            session,
            job.payload["reference"],
            queries.StaffMessage(
                id=job.payload["id"], text=job.payload["text"], at=job.payload["at"]
            ),
            queries.Actor(ActorType(actor["type"]), actor["label"], actor["user_id"]),
            delivery,
            self.levels,
        )

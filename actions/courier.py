"""Everything the action server hands to someone else is written to its outbox first.

Requests, answers about reminders and erasures go to reception (queue `reception`, one lane per
conversation, so that each follows the requests the patient sent before it). Once a request saved
while reception was unreachable arrives, the patient is told so through the bot (queue
`patient_notices`). An action waits a few seconds for the first attempt: the patient then
hears the outcome at once, or that the request is saved and will follow.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from actions.bot_client import BotClient, BotRefused, BotUnavailable
from actions.reception_client import ReceptionClient, ReceptionRefused, ReceptionUnavailable
from contentlib import ContentStore
from deliveries import PatientMessage
from outbox import Done, GiveUp, Job, NewJob, Outbox, Purger, RetryLater, Waiters, Worker

logger = logging.getLogger(__name__)

RECEPTION_QUEUE = "reception"
NOTICES_QUEUE = "patient_notices"
QUEUES = (RECEPTION_QUEUE, NOTICES_QUEUE)


@dataclass(frozen=True)
class Handed:
    """What became of something handed to reception, as far as the waiting action knows."""

    state: Literal["delivered", "saved", "refused"]
    result: dict[str, Any] | None = None

    @property
    def reference(self) -> str | None:
        """The ticket's reference, once reception has it."""
        return (self.result or {}).get("reference")


class Courier:
    """Deliver the action server's outbox to reception and, through the bot, to patients."""

    def __init__(
        self,
        outbox: Outbox,
        reception: ReceptionClient,
        bot: BotClient,
        content: ContentStore,
        wait_seconds: float,
        keep_seconds: float = 7 * 86_400,
    ) -> None:
        """Deliver with these clients; let actions wait up to wait_seconds for a first answer;
        forget finished jobs after keep_seconds.
        """
        self.outbox = outbox
        self.reception = reception
        self.bot = bot
        self.content = content
        self.wait_seconds = wait_seconds
        self.reception_worker = Worker(outbox, RECEPTION_QUEUE, self._to_reception)
        self.notices_worker = Worker(outbox, NOTICES_QUEUE, self._to_patient)
        self.purger = Purger(outbox, keep_seconds)
        self._waiters: Waiters[Handed] = Waiters()

    async def start(self) -> None:
        """Start delivering, beginning with what was left when the server last stopped."""
        await self.reception_worker.start()
        await self.notices_worker.start()
        await self.purger.start()

    async def stop(self) -> None:
        """Stop delivering; what is not delivered yet stays in the outbox."""
        await self.purger.stop()
        await self.reception_worker.stop()
        await self.notices_worker.stop()

    async def send_ticket(
        self, sender_id: str, ticket: dict[str, Any], idempotency_key: str, language: str
    ) -> Handed:
        """Save a ticket, then wait briefly for reception to take it (same key: same job)."""
        payload = {"kind": "ticket", "ticket": ticket, "key": idempotency_key, "language": language}
        return await self._put_and_wait(sender_id, payload, f"ticket:{idempotency_key}")

    async def erase(self, sender_id: str, channel: str, address: str) -> Handed:
        """Save an erasure of the conversation's tickets, then wait briefly for reception."""
        payload = {"kind": "erasure", "channel": channel, "address": address}
        return await self._put_and_wait(sender_id, payload, f"erasure:{uuid.uuid4().hex}")

    async def follow_up(self, sender_id: str, channel: str, address: str, state: str) -> Handed:
        """Save the patient's answer about reminders, then wait briefly for reception."""
        payload = {"kind": "follow_up", "channel": channel, "address": address, "state": state}
        return await self._put_and_wait(sender_id, payload, f"follow_up:{uuid.uuid4().hex}")

    async def tickets_on_their_way(self, sender_id: str) -> int:
        """How many of the conversation's tickets are saved but not at reception yet."""
        pending = await self.outbox.pending(RECEPTION_QUEUE, sender_id)
        return sum(1 for job in pending if job.payload.get("kind") == "ticket")

    async def _put_and_wait(self, sender_id: str, payload: dict[str, Any], key: str) -> Handed:
        """Save a job for reception, then wait for its first attempt, or say it is saved.

        The wait is announced before the job is put, so a worker that is quicker than this
        coroutine still finds who waits. A key put before returns what became of it.
        """
        self._waiters.expect(key)
        job = await self.outbox.put(RECEPTION_QUEUE, sender_id, payload, key=key)
        if job.done:
            result = job.result or {}
            self._waiters.answer(
                key, Handed("refused" if "refused" in result else "delivered", result)
            )
        self.reception_worker.wake()
        return await self._waiters.wait(key, self.wait_seconds) or Handed("saved")

    async def _to_reception(self, job: Job) -> Done:
        """Deliver one ticket, answer about reminders or erasure to reception."""
        kind = job.payload["kind"]
        try:
            if kind == "ticket":
                created = await self.reception.create_ticket(
                    job.payload["ticket"], job.payload["key"]
                )
                result: dict[str, Any] = {"reference": str(created["reference"])}
            elif kind == "follow_up":
                changed = await self.reception.set_follow_up(
                    job.payload["channel"], job.payload["address"], job.payload["state"]
                )
                result = {"changed": len(changed)}
            else:
                erased = await self.reception.erase_conversation(
                    job.payload["channel"], job.payload["address"]
                )
                result = {"erased": len(erased)}
        except ReceptionRefused as error:
            logger.error("reception refused a %s (job %d): %s", kind, job.id, error)
            result = {"refused": error.status}
        except ReceptionUnavailable as error:
            self._waiters.answer(job.key, Handed("saved"))
            raise RetryLater(str(error)) from None
        state: Literal["delivered", "refused"] = "refused" if "refused" in result else "delivered"
        if self._waiters.answer(job.key, Handed(state, result)) or kind != "ticket":
            return Done(result=result)
        if await self._erasure_follows(job):
            return Done(result=result)
        logger.info("a saved ticket reached reception; the patient is told")
        return Done(result=result, then=[self._notice(job, result)])

    async def _erasure_follows(self, job: Job) -> bool:
        """Tell whether the patient asked to erase their data after sending this ticket."""
        later = await self.outbox.pending(RECEPTION_QUEUE, job.lane)
        return any(other.id > job.id and other.payload.get("kind") == "erasure" for other in later)

    def _notice(self, job: Job, result: dict[str, Any]) -> NewJob:
        """The message that tells the patient what became of their saved ticket."""
        ticket = job.payload["ticket"]
        language = job.payload["language"]
        reference = result.get("reference")
        if reference is None:
            text = self.content.text("handoff_refused", language)
        elif ticket["kind"] == "callback":
            text = self.content.text("callback_arrived", language, reference=reference)
        else:
            text = self.content.text("handoff_arrived", language, reference=reference)
        notice = {
            "channel": ticket["channel"],
            "address": ticket["channel_address"],
            "text": text,
            "reference": reference,
            "language": language,
        }
        return NewJob(NOTICES_QUEUE, job.lane, notice, key=f"notice:{job.key}")

    async def _to_patient(self, job: Job) -> None:
        """Hand one notice to the bot, which sends it on the patient's channel."""
        try:
            message = PatientMessage(**job.payload, sender="assistant")
            await self.bot.deliver(message, idempotency_key=job.key or f"notice:{job.id}")
        except BotRefused as error:
            raise GiveUp(str(error)) from None
        except BotUnavailable as error:
            raise RetryLater(str(error)) from None

"""Hand finished uploads to reception, and keep trying while reception cannot be reached.

An upload whose last byte arrived is handed over at once; one finished before a crash or a
restart is handed over when the service starts again. Reception's answer (kept, with its
label, type and scan result, or refused, with its code) is written beside the upload, where
the page reads it, and the bytes are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from .links import Links
from .partials import Partials, Upload
from .reception_client import (
    LinkGone,
    LinkUnknown,
    Received,
    ReceptionClient,
    ReceptionUnavailable,
)

logger = logging.getLogger(__name__)

AT_ONCE = 4  # files handed to reception at the same time
FIRST_RETRY_SECONDS, LAST_RETRY_SECONDS = 1.0, 60.0
# What the page is told about a received file: never more than reception's description.
ATTACHMENT_FIELDS = ("id", "label", "label_guessed", "content_type", "size", "received_at", "scan")


class Courier:
    """Hand uploads over, a few at a time, each retried with back-off until reception answers."""

    def __init__(self, partials: Partials, reception: ReceptionClient, links: Links) -> None:
        """Deliver the uploads of `partials` to reception."""
        self.partials = partials
        self.reception = reception
        self.links = links
        self._slots = asyncio.Semaphore(AT_ONCE)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        """Hand over every upload that finished but has no answer yet (left by a restart)."""
        for upload in self.partials.all():
            complete = self.partials.readable(upload) and self.partials.is_complete(upload)
            if upload.outcome is None and complete:
                self.hand_over(upload)

    def hand_over(self, upload: Upload) -> None:
        """Deliver one finished upload in the background (once, however often it is asked)."""
        if upload.id not in self._tasks:
            task = asyncio.create_task(self._deliver(upload), name=f"deliver-{upload.id}")
            self._tasks[upload.id] = task
            task.add_done_callback(lambda _: self._tasks.pop(upload.id, None))

    async def stop(self) -> None:
        """Stop delivering; an upload interrupted here is delivered again after the restart."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def idle(self) -> None:
        """Wait until no delivery is under way (for tests and an orderly stop)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _deliver(self, upload: Upload) -> None:
        """Send the upload until reception answers, then record the answer."""
        delay = FIRST_RETRY_SECONDS
        while True:
            async with self._slots:
                try:
                    outcome = await self._send(upload)
                    break
                except ReceptionUnavailable as error:
                    logger.warning("reception cannot take an upload now (%s); trying again", error)
                except Exception:
                    logger.exception("handing upload %s over failed; trying again", upload.id)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, LAST_RETRY_SECONDS)
        if outcome is None or self.partials.get(upload.token, upload.id) is None:
            return  # deleted meanwhile (its link ended, or the patient gave it up)
        self.partials.answer(upload, outcome)
        self.links.forget(upload.token)
        logger.info(
            "upload %s handed over: %s %s", upload.id, outcome["state"], outcome.get("code", "")
        )

    async def _send(self, upload: Upload) -> dict[str, object] | None:
        """One attempt: reception's answer as the page shows it (None: the bytes are gone)."""
        try:
            answer = await self.reception.attach(
                upload.token, self.partials.contents(upload), upload.length, upload.label
            )
        except (LinkUnknown, LinkGone):
            return {"state": "refused", "code": "link_gone"}
        except FileNotFoundError:
            return None
        if isinstance(answer, Received):
            kept = {name: answer.attachment.get(name) for name in ATTACHMENT_FIELDS}
            return {"state": "received", "attachment": kept}
        return {"state": "refused", "code": answer.code}

"""The worker that delivers a queue's jobs: several lanes at once, each in order, with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from outbox.store import Job, NewJob, Outbox, Payload

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    """The job could not be delivered now; try again after `after` seconds, or with back-off."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        """Say why, in a few words without personal data, and optionally when to try again."""
        super().__init__(reason)
        self.reason = reason
        self.after = after


class GiveUp(Exception):
    """The job can never be delivered (the receiver refuses it for good)."""

    def __init__(self, reason: str) -> None:
        """Say why, in a few words without personal data."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Done:
    """A delivered job: what to remember of it, and jobs to put in the same transaction."""

    result: Payload | None = None
    then: Sequence[NewJob] = ()


Handler = Callable[[Job], Awaitable[Done | None]]


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: about base, 2 x base, 4 x base... up to a cap."""

    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def delay(self, attempts: int) -> float:
        """The wait before the next attempt, after this many failed ones."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(attempts, 30))
        return ceiling * random.uniform(0.5, 1.0)  # jitter, not security


@dataclass
class Worker:
    """Claim due jobs of one queue and hand each to the handler, one job per lane at a time."""

    outbox: Outbox
    queue: str
    handler: Handler
    concurrency: int = 16
    poll_seconds: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _busy: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _loop_task: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)

    async def start(self) -> None:
        """Take back the jobs this process held when it last stopped, then start delivering."""
        released = await self.outbox.release_own_leases(self.queue)
        if released:
            logger.info("%s: %d unfinished jobs resumed after a restart", self.queue, released)
        self.outbox.subscribe(self.queue, self.wake)
        self._loop_task = asyncio.create_task(self._run(), name=f"outbox-{self.queue}")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop claiming, let running jobs finish for a moment, then cancel the rest."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            with contextlib.suppress(TimeoutError):  # wait_for has cancelled it
                await asyncio.wait_for(self._loop_task, grace_seconds)
            self._loop_task = None
        running = list(self._busy.values())
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def wake(self) -> None:
        """Look for due jobs now (a job was just put)."""
        self._wake.set()

    async def _run(self) -> None:
        """Claim and start jobs until stopped."""
        failures = 0
        while not self._stopping:
            self._wake.clear()
            free = self.concurrency - len(self._busy)
            if free > 0:
                try:
                    jobs = await self.outbox.claim(self.queue, free, busy_lanes=self._busy)
                    failures = 0
                except Exception as error:  # the database is down: keep trying, slower
                    failures += 1
                    logger.error(
                        "%s: cannot read the outbox (%s)", self.queue, type(error).__name__
                    )
                    await asyncio.sleep(self.backoff.delay(failures))
                    continue
                for job in jobs:
                    if self._stopping:  # leave it leased: the next start takes it back
                        break
                    self._busy[job.lane] = asyncio.create_task(self._attempt(job))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _attempt(self, job: Job) -> None:
        """Run the handler on one job and record how it went."""
        try:
            await self._deliver(job)
        finally:
            self._busy.pop(job.lane, None)
            self._wake.set()

    async def _deliver(self, job: Job) -> None:
        """One attempt: done, retried later, or given up; never an exception."""
        try:
            done = await self.handler(job) or Done()
        except RetryLater as error:
            delay = error.after if error.after is not None else self.backoff.delay(job.attempts)
            logger.warning(
                "%s: job %d not delivered (%s), attempt %d, next in %.0fs",
                *(self.queue, job.id, error.reason, job.attempts + 1, delay),
            )
            await self._record(self.outbox.retry(job.id, delay, error.reason))
            return
        except GiveUp as error:
            logger.error("%s: job %d given up: %s", self.queue, job.id, error.reason)
            await self._record(self.outbox.give_up(job.id, error.reason))
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            reason = type(error).__name__
            delay = self.backoff.delay(job.attempts)
            logger.error("%s: job %d failed (%s), next in %.0fs", self.queue, job.id, reason, delay)
            await self._record(self.outbox.retry(job.id, delay, reason))
            return
        await self._record(self.outbox.complete(job.id, done.result, done.then))

    async def _record(self, write: Awaitable[object]) -> None:
        """Store an attempt's result; if the database fails, the lease runs out and it reruns."""
        try:
            await write
        except Exception as error:
            logger.error("%s: cannot record an attempt (%s)", self.queue, type(error).__name__)


@dataclass
class Purger:
    """Delete finished jobs older than a retention period, now and then."""

    outbox: Outbox
    keep_seconds: float
    interval_seconds: float = 3600.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        """Purge now, then once per interval."""
        self._task = asyncio.create_task(self._run(), name="outbox-purge")

    async def stop(self) -> None:
        """Stop purging."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        """Purge until stopped; a failed pass is logged and the next one runs as planned."""
        while True:
            try:
                purged = await self.outbox.purge(time.time() - self.keep_seconds)
                if purged:
                    logger.info("purged %d finished outbox jobs", purged)
            except Exception as error:
                logger.error("outbox purge failed: %s", type(error).__name__)
            await asyncio.sleep(self.interval_seconds)

"""The worker: delivery in order per lane, retries with back-off, giving up, restarts."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from outbox import Backoff, Done, GiveUp, Job, NewJob, Outbox, Purger, RetryLater, Worker
from tests.waiting import until

FAST = Backoff(base_seconds=0.01, cap_seconds=0.05)


class Receiver:
    """A stand-in receiver that can be down, and records what it got, per lane."""

    def __init__(self) -> None:
        """Start up, with nothing received."""
        self.down = False
        self.received: defaultdict[str, list[int]] = defaultdict(list)
        self.attempts = 0

    async def handle(self, job: Job) -> Done:
        """Accept a job unless down."""
        self.attempts += 1
        await asyncio.sleep(0.001)
        if self.down:
            raise RetryLater("receiver down")
        self.received[job.lane].append(job.payload["n"])
        return Done(result={"got": job.payload["n"]})


async def _none_pending(outbox: Outbox, queue: str) -> bool:
    """Tell whether every job of a queue is finished (marked done after its handler returns)."""
    return await outbox.pending(queue) == []


async def test_jobs_arrive_once_in_order_after_an_outage(outbox: Outbox) -> None:
    """While the receiver is down nothing is lost; when it is back, all arrive once, in order."""
    receiver = Receiver()
    receiver.down = True
    worker = Worker(outbox, "tickets", receiver.handle, poll_seconds=0.02, backoff=FAST)
    await worker.start()
    try:
        for n in range(5):
            for lane in ("a", "b"):
                await outbox.put("tickets", lane, {"n": n})
        await until(lambda: receiver.attempts >= 6)
        assert receiver.received == {}
        receiver.down = False
        await until(lambda: sum(len(v) for v in receiver.received.values()) == 10)
        assert receiver.received == {"a": [0, 1, 2, 3, 4], "b": [0, 1, 2, 3, 4]}
        await until(lambda: _none_pending(outbox, "tickets"))
    finally:
        await worker.stop()


async def test_a_failing_lane_does_not_hold_up_the_others(outbox: Outbox) -> None:
    """One lane's receiver keeps failing; another lane's jobs go through meanwhile."""
    received: list[str] = []

    async def handle(job: Job) -> None:
        if job.lane == "stuck":
            raise RetryLater("slow down", after=30)
        received.append(job.lane)

    worker = Worker(outbox, "messages", handle, poll_seconds=0.02, backoff=FAST)
    await worker.start()
    try:
        await outbox.put("messages", "stuck", {})
        await outbox.put("messages", "stuck", {})
        for _ in range(3):
            await outbox.put("messages", "free", {})
        await until(lambda: len(received) == 3)
        assert len(await outbox.pending("messages", lane="stuck")) == 2
    finally:
        await worker.stop()


async def test_a_job_that_can_never_succeed_is_given_up(outbox: Outbox) -> None:
    """GiveUp ends the job at once; the next one of the lane follows."""
    seen: list[int] = []

    async def handle(job: Job) -> None:
        seen.append(job.payload["n"])
        if job.payload["n"] == 1:
            raise GiveUp("blocked")

    worker = Worker(outbox, "messages", handle, poll_seconds=0.02, backoff=FAST)
    await worker.start()
    try:
        first = await outbox.put("messages", "chat", {"n": 1})
        await outbox.put("messages", "chat", {"n": 2})
        await until(lambda: seen == [1, 2])
        stored = await outbox.get(first.id)
        assert stored is not None and stored.failed
    finally:
        await worker.stop()


async def test_an_unexpected_error_is_retried(outbox: Outbox) -> None:
    """A bug or a crash in the handler is not a reason to lose the job."""
    calls = []

    async def handle(job: Job) -> None:
        calls.append(job.attempts)
        if len(calls) < 3:
            raise ValueError("boom")

    worker = Worker(outbox, "messages", handle, poll_seconds=0.02, backoff=FAST)
    await worker.start()
    try:
        await outbox.put("messages", "chat", {})
        await until(lambda: len(calls) == 3)
        assert calls == [0, 1, 2]
    finally:
        await worker.stop()


async def test_follow_up_jobs_wake_their_own_worker(outbox: Outbox) -> None:
    """A job that puts another queue's job, on completion, gets that queue's worker going."""
    delivered: list[str] = []

    async def process(job: Job) -> Done:
        return Done(then=[NewJob("messages", job.lane, {"text": "reply"})])

    async def send(job: Job) -> None:
        delivered.append(job.payload["text"])

    workers = [
        Worker(outbox, "updates", process, poll_seconds=5, backoff=FAST),
        Worker(outbox, "messages", send, poll_seconds=5, backoff=FAST),
    ]
    for worker in workers:
        await worker.start()
    try:
        await outbox.put("updates", "chat", {"text": "hello"})
        await until(lambda: delivered == ["reply"], timeout=3)
    finally:
        for worker in workers:
            await worker.stop()


async def test_a_job_interrupted_by_a_stop_runs_again_after_a_restart(outbox: Outbox) -> None:
    """A process stopped in the middle of a job leaves it to its successor, not to nobody."""
    started = asyncio.Event()
    finished: list[int] = []

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(30)

    async def quick(job: Job) -> None:
        finished.append(job.id)

    first = Worker(outbox, "tickets", slow, poll_seconds=0.02, backoff=FAST)
    await first.start()
    job = await outbox.put("tickets", "conv", {})
    await asyncio.wait_for(started.wait(), 5)
    await first.stop(grace_seconds=0.05)
    second = Worker(Outbox(outbox.engine, "test"), "tickets", quick, poll_seconds=0.02)
    await second.start()
    try:
        await until(lambda: finished == [job.id])
    finally:
        await second.stop()


async def test_the_purger_forgets_finished_jobs_after_the_period(outbox: Outbox) -> None:
    """Finished jobs older than the period go; recent ones and waiting ones stay."""
    old = await outbox.put("messages", "chat", {})
    await outbox.complete(old.id)
    await asyncio.sleep(1.2)
    recent = await outbox.put("messages", "chat", {})
    await outbox.complete(recent.id)
    waiting = await outbox.put("messages", "other", {})
    purger = Purger(outbox, keep_seconds=1.0, interval_seconds=0.05)
    await purger.start()
    try:
        await asyncio.sleep(0.15)
    finally:
        await purger.stop()
    assert await outbox.get(old.id) is None
    assert await outbox.get(recent.id) is not None
    assert await outbox.get(waiting.id) is not None

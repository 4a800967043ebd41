"""The outbox table: order per lane, keys, retries, leases, mailboxes, erasure and purging."""

from __future__ import annotations

import asyncio
import time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from outbox import NewJob, Outbox, create_engine, upgrade
from outbox.migrate import VERSION_TABLE, downgrade
from outbox.store import Base


async def test_each_lane_gives_its_oldest_job_first(outbox: Outbox) -> None:
    """Only the head of a lane can be claimed, and lanes do not wait for each other."""
    first = await outbox.put("messages", "chat-1", {"n": 1})
    await outbox.put("messages", "chat-1", {"n": 2})
    other = await outbox.put("messages", "chat-2", {"n": 3})
    await outbox.put("elsewhere", "chat-1", {"n": 4})
    claimed = await outbox.claim("messages", 10)
    assert [job.id for job in claimed] == [first.id, other.id]
    assert await outbox.claim("messages", 10) == []  # both heads are leased
    await outbox.complete(first.id)
    [second] = await outbox.claim("messages", 10)
    assert second.payload == {"n": 2}


async def test_busy_lanes_and_the_limit_are_respected(outbox: Outbox) -> None:
    """A lane the worker is busy with is skipped; no more than the limit is claimed."""
    for lane in ("a", "b", "c"):
        await outbox.put("messages", lane, {})
    claimed = await outbox.claim("messages", 1, busy_lanes=["a"])
    assert [job.lane for job in claimed] == ["b"]


async def test_a_key_makes_putting_twice_harmless(outbox: Outbox) -> None:
    """The same key in the same queue returns the job already stored."""
    first = await outbox.put("tickets", "conv", {"v": 1}, key="k-1")
    again, new = await outbox.put_new("tickets", "conv", {"v": 2}, key="k-1")
    assert (again.id, again.payload, new) == (first.id, {"v": 1}, False)
    other_queue = await outbox.put("notices", "conv", {"v": 3}, key="k-1")
    assert other_queue.id != first.id
    await outbox.complete(first.id, {"reference": "SO-1"})
    done = await outbox.put("tickets", "conv", {"v": 4}, key="k-1")
    assert (done.id, done.done, done.result, done.payload) == (
        first.id,
        True,
        {"reference": "SO-1"},
        {},
    )


async def test_a_retry_waits_and_holds_back_its_lane(outbox: Outbox) -> None:
    """A job released for later is not due before its delay, nor is the next job of its lane."""
    head = await outbox.put("messages", "chat", {"n": 1})
    await outbox.put("messages", "chat", {"n": 2})
    await outbox.claim("messages", 10)
    await outbox.retry(head.id, 60, "receiver down")
    assert await outbox.claim("messages", 10) == []
    await outbox.retry(head.id, 0, "receiver down")
    [again] = await outbox.claim("messages", 10)
    assert (again.id, again.attempts) == (head.id, 2)


async def test_completing_forgets_the_payload_and_puts_follow_ups_together(
    outbox: Outbox,
) -> None:
    """A delivered job keeps no personal data; its follow-ups are stored in the same step."""
    job = await outbox.put("updates", "chat", {"text": "my phone is 0470 12 34 56"})
    await outbox.claim("updates", 1)
    [follow_up] = await outbox.complete(job.id, then=[NewJob("messages", "chat", {"text": "ok"})])
    stored = await outbox.get(job.id)
    assert stored is not None and stored.done and stored.payload == {}
    assert [j.id for j in await outbox.pending("messages")] == [follow_up.id]


async def test_a_job_given_up_leaves_the_lane(outbox: Outbox) -> None:
    """A job that can never succeed stops blocking its lane."""
    bad = await outbox.put("messages", "chat", {"n": 1})
    good = await outbox.put("messages", "chat", {"n": 2})
    await outbox.claim("messages", 1)
    await outbox.give_up(bad.id, "blocked by the user")
    stored = await outbox.get(bad.id)
    assert stored is not None and stored.failed and stored.payload == {"n": 1}
    assert [job.id for job in await outbox.claim("messages", 10)] == [good.id]


async def test_a_restarted_process_takes_back_its_leases(outbox_url: str) -> None:
    """A killed worker's leases are freed by its successor; another worker waits for the lease."""
    engine = create_engine(outbox_url)
    await upgrade(engine)
    try:
        before = Outbox(engine, worker_id="bot-1")
        job = await before.put("messages", "chat", {})
        assert [j.id for j in await before.claim("messages", 1)] == [job.id]
        stranger = Outbox(engine, worker_id="bot-2")
        assert await stranger.release_own_leases("messages") == 0
        assert await stranger.claim("messages", 1) == []
        after = Outbox(engine, worker_id="bot-1")
        assert await after.release_own_leases("messages") == 1
        assert [j.id for j in await after.claim("messages", 1)] == [job.id]
    finally:
        await engine.dispose()


async def test_an_expired_lease_can_be_claimed_again(outbox_url: str) -> None:
    """A worker that died elsewhere holds its job only for the lease."""
    engine = create_engine(outbox_url)
    await upgrade(engine)
    try:
        dead = Outbox(engine, worker_id="gone", lease_seconds=0.05)
        job = await dead.put("messages", "chat", {})
        await dead.claim("messages", 1)
        await asyncio.sleep(0.1)
        assert [j.id for j in await Outbox(engine, "alive").claim("messages", 1)] == [job.id]
    finally:
        await engine.dispose()


async def test_a_mailbox_lane_is_taken_once(outbox: Outbox) -> None:
    """Taking a lane returns its waiting jobs in order and leaves nothing behind."""
    await outbox.put("webchat", "session-1", {"text": "one"})
    await outbox.put("webchat", "session-1", {"text": "two"})
    await outbox.put("webchat", "session-2", {"text": "other"})
    taken = await outbox.take("webchat", "session-1")
    assert [job.payload["text"] for job in taken] == ["one", "two"]
    assert await outbox.take("webchat", "session-1") == []
    assert len(await outbox.pending("webchat")) == 1


async def test_erasing_a_lane_and_purging_old_jobs(outbox: Outbox) -> None:
    """Erasure removes a lane's jobs (but those kept); purging removes old finished jobs."""
    keep = await outbox.put("messages", "chat", {"text": "your data is erased"})
    await outbox.put("messages", "chat", {"text": "my name"})
    await outbox.put("updates", "chat", {"text": "my phone"})
    other = await outbox.put("messages", "other", {"text": "hello"})
    erased = await outbox.erase_lane("chat", ["messages", "updates"], keep=[keep.id])
    assert erased == 2
    assert [job.id for job in await outbox.pending()] == [keep.id, other.id]
    await outbox.complete(other.id)
    assert await outbox.purge(done_before=time.time() - 3600) == 0
    assert await outbox.purge(done_before=time.time() + 1) == 1
    assert [job.id for job in await outbox.pending()] == [keep.id]
    assert await outbox.next_due("messages") is not None


async def test_the_migration_matches_the_model_and_goes_back(outbox_url: str) -> None:
    """Upgrading creates exactly the modelled table; downgrading removes it."""
    engine = create_engine(outbox_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"version_table": VERSION_TABLE}),
                    Base.metadata,
                )
            )
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert differences == []
        assert {"outbox_jobs", "outbox_alembic_version"} <= set(tables)
        await downgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "outbox_jobs" not in tables
    finally:
        await engine.dispose()

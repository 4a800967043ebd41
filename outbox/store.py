"""The outbox table and the operations on it: put, claim, complete, retry, give up, erase, purge.

A job belongs to a queue (what kind of work it is) and a lane (whose work it is: one chat, one
conversation). Jobs of one lane run one at a time, oldest first, so a patient's messages keep
their order and a failing one holds back only its own lane. A job may carry a key: putting a
job whose key the queue already holds returns the existing job instead, which is how a retry
or a redelivered update never becomes a second job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, mapped_column
from sqlalchemy.sql import Delete
from sqlalchemy.sql.elements import ColumnElement

QUEUE_LENGTH = 32
LANE_LENGTH = 128
KEY_LENGTH = 255
ERROR_LENGTH = 200
WORKER_LENGTH = 64
DEFAULT_LEASE_SECONDS = 300.0

Payload = dict[str, Any]


class Base(DeclarativeBase):
    """Declarative base of the outbox table, with stable constraint names."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class JobRow(Base):
    """One piece of work to deliver, with its attempts and its lease."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        UniqueConstraint("queue", "key", name="uq_outbox_jobs_queue_key"),
        Index("ix_outbox_jobs_lane_head", "queue", "lane", "done_at", "id"),
        Index("ix_outbox_jobs_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(String(QUEUE_LENGTH))
    lane: Mapped[str] = mapped_column(String(LANE_LENGTH))
    key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    payload: Mapped[Payload | None] = mapped_column(JSON)
    result: Mapped[Payload | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    created_at: Mapped[float] = mapped_column(Float)
    available_at: Mapped[float] = mapped_column(Float)
    locked_by: Mapped[str | None] = mapped_column(String(WORKER_LENGTH))
    locked_until: Mapped[float | None] = mapped_column(Float)
    done_at: Mapped[float | None] = mapped_column(Float)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class Job:
    """A claimed or stored job, as the code that delivers it sees it."""

    id: int
    queue: str
    lane: str
    key: str | None
    payload: Payload
    attempts: int
    created_at: float
    result: Payload | None = None
    done: bool = False
    failed: bool = False


@dataclass(frozen=True)
class NewJob:
    """A job to put, possibly together with completing another one."""

    queue: str
    lane: str
    payload: Payload
    key: str | None = None


def _row_to_job(row: JobRow) -> Job:
    """Copy a row into an immutable job."""
    return Job(
        id=row.id,
        queue=row.queue,
        lane=row.lane,
        key=row.key,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        created_at=row.created_at,
        result=dict(row.result) if row.result is not None else None,
        done=row.done_at is not None,
        failed=row.failed,
    )


def erase_lane_statement(lane: str, queues: Iterable[str], keep: Iterable[int] = ()) -> Delete:
    """The DELETE of a lane's jobs in these queues (but the ids to keep).

    For a process whose own tables share the outbox's database, to erase a lane in the same
    transaction as the rest of what it erases.
    """
    conditions = [JobRow.lane == lane, JobRow.queue.in_(list(queues))]
    kept = list(keep)
    if kept:
        conditions.append(JobRow.id.not_in(kept))
    return delete(JobRow).where(*conditions)


class Outbox:
    """The outbox of one process: its jobs, in its database, claimed under its worker id."""

    def __init__(
        self, engine: AsyncEngine, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        """Use an engine (see create_engine) under a worker id unique to this process."""
        self.engine = engine
        self.worker_id = worker_id[:WORKER_LENGTH]
        self.lease_seconds = lease_seconds
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name
        # SQLite has one writer at a time: queue writers here rather than in busy retries.
        self._serial = asyncio.Lock() if self._dialect == "sqlite" else None
        self._listeners: dict[str, list[Callable[[], None]]] = {}

    def subscribe(self, queue: str, listener: Callable[[], None]) -> None:
        """Call listener whenever this process puts a job in the queue (a worker wakes up)."""
        self._listeners.setdefault(queue, []).append(listener)

    def _notify(self, queues: Iterable[str]) -> None:
        """Tell the listeners of these queues that jobs arrived."""
        for queue in set(queues):
            for listener in self._listeners.get(queue, ()):
                listener()

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """One transaction, committed when the block ends without an error."""
        lock = self._serial or contextlib.nullcontext()
        async with lock, self._sessions() as session, session.begin():
            yield session

    async def put(self, queue: str, lane: str, payload: Payload, key: str | None = None) -> Job:
        """Store a job durably and return it; a key the queue holds returns the existing job."""
        job, _ = await self.put_new(queue, lane, payload, key)
        return job

    async def put_many(self, jobs: Sequence[NewJob]) -> list[Job]:
        """Store several jobs in one transaction, in order (keys behave as in put)."""
        if not jobs:
            return []
        async with self._session() as session:
            stored = [(await self._put(session, job))[0] for job in jobs]
        self._notify(job.queue for job in jobs)
        return stored

    async def remember(self, queue: str, lane: str, key: str, value: Payload) -> None:
        """Keep a small value under a key (a finished job holding it), until purged or erased."""
        async with self._session() as session:
            await self._insert(session, NewJob(queue, lane, {}, key), result=value, done=True)

    async def recall(self, queue: str, key: str) -> Payload | None:
        """The value kept under a key, if it is still there."""
        async with self._session() as session:
            row = await self._by_key(session, queue, key)
            return dict(row.result) if row is not None and row.result is not None else None

    async def put_new(
        self, queue: str, lane: str, payload: Payload, key: str | None = None
    ) -> tuple[Job, bool]:
        """Like put, and tell whether the job is new (False: its key was already there)."""
        async with self._session() as session:
            job, new = await self._put(session, NewJob(queue, lane, payload, key))
        if new:
            self._notify([queue])
        return job, new

    async def _put(self, session: AsyncSession, job: NewJob) -> tuple[Job, bool]:
        """Insert a job unless its key exists; return the stored job, and whether it is new."""
        new_id = await self._insert(session, job)
        if new_id is None:
            existing = await self._by_key(session, job.queue, job.key)
            assert existing is not None
            return _row_to_job(existing), False
        row = await session.get(JobRow, new_id)
        assert row is not None
        return _row_to_job(row), True

    async def _insert(
        self, session: AsyncSession, job: NewJob, result: Payload | None = None, done: bool = False
    ) -> int | None:
        """Insert a row, or nothing when its key is taken; return the new row's id, if any."""
        now = time.time()
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        statement = insert(JobRow).values(
            queue=job.queue,
            lane=job.lane[:LANE_LENGTH],
            key=job.key,
            payload=None if done else job.payload,
            result=result,
            attempts=0,
            created_at=now,
            available_at=now,
            done_at=now if done else None,
            failed=False,
        )
        if job.key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=["queue", "key"])
        inserted = await session.execute(statement.returning(JobRow.id))
        return inserted.scalar_one_or_none()

    async def _by_key(self, session: AsyncSession, queue: str, key: str | None) -> JobRow | None:
        """The job of a queue with this key, if any."""
        found = await session.execute(
            select(JobRow).where(JobRow.queue == queue, JobRow.key == key)
        )
        return found.scalar_one_or_none()

    async def get(self, job_id: int) -> Job | None:
        """One job by id, done or not."""
        async with self._session() as session:
            row = await session.get(JobRow, job_id)
            return _row_to_job(row) if row is not None else None

    async def claim(self, queue: str, limit: int, busy_lanes: Iterable[str] = ()) -> list[Job]:
        """Lease the oldest due job of each lane that nobody works on, up to a limit."""
        now = time.time()
        head = aliased(JobRow)
        first_of_lane = (
            select(func.min(head.id))
            .where(head.queue == JobRow.queue, head.lane == JobRow.lane, head.done_at.is_(None))
            .scalar_subquery()
        )
        conditions = [
            JobRow.queue == queue,
            JobRow.done_at.is_(None),
            JobRow.id == first_of_lane,
            JobRow.available_at <= now,
            or_(JobRow.locked_until.is_(None), JobRow.locked_until < now),
        ]
        busy = list(busy_lanes)
        if busy:
            conditions.append(JobRow.lane.not_in(busy))
        claimed: list[Job] = []
        async with self._session() as session:
            rows = (
                (
                    await session.execute(
                        select(JobRow).where(*conditions).order_by(JobRow.id).limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                leased = await session.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == row.id,
                        JobRow.done_at.is_(None),
                        or_(JobRow.locked_until.is_(None), JobRow.locked_until < now),
                    )
                    .values(locked_by=self.worker_id, locked_until=now + self.lease_seconds)
                )
                if leased.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(_row_to_job(row))
        return claimed

    async def complete(
        self, job_id: int, result: Payload | None = None, then: Sequence[NewJob] = ()
    ) -> list[Job]:
        """Mark a job done and forget its payload; put follow-up jobs in the same transaction."""
        async with self._session() as session:
            await session.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(
                    done_at=time.time(),
                    payload=None,
                    result=result,
                    locked_by=None,
                    locked_until=None,
                    last_error=None,
                )
            )
            stored = [(await self._put(session, job))[0] for job in then]
        self._notify(job.queue for job in then)
        return stored

    async def retry(self, job_id: int, delay_seconds: float, error: str) -> None:
        """Release a job to be tried again after a delay, counting the attempt."""
        async with self._session() as session:
            await session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.done_at.is_(None))
                .values(
                    attempts=JobRow.attempts + 1,
                    available_at=time.time() + max(delay_seconds, 0.0),
                    locked_by=None,
                    locked_until=None,
                    last_error=error[:ERROR_LENGTH],
                )
            )

    async def give_up(self, job_id: int, error: str) -> None:
        """Stop trying a job that can never succeed; its payload stays for inspection."""
        async with self._session() as session:
            await session.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(
                    attempts=JobRow.attempts + 1,
                    done_at=time.time(),
                    failed=True,
                    locked_by=None,
                    locked_until=None,
                    last_error=error[:ERROR_LENGTH],
                )
            )

    async def take(self, queue: str, lane: str) -> list[Job]:
        """Return a lane's waiting jobs, oldest first, and mark them done (a mailbox)."""
        async with self._session() as session:
            rows = (
                (
                    await session.execute(
                        select(JobRow)
                        .where(JobRow.queue == queue, JobRow.lane == lane, JobRow.done_at.is_(None))
                        .order_by(JobRow.id)
                    )
                )
                .scalars()
                .all()
            )
            jobs = [_row_to_job(row) for row in rows]
            if rows:
                await session.execute(
                    update(JobRow)
                    .where(JobRow.id.in_([row.id for row in rows]))
                    .values(done_at=time.time(), payload=None)
                )
            return jobs

    async def pending(self, queue: str | None = None, lane: str | None = None) -> list[Job]:
        """Jobs not done yet, oldest first (for tests, health and operators)."""
        conditions: list[ColumnElement[bool]] = [JobRow.done_at.is_(None)]
        if queue is not None:
            conditions.append(JobRow.queue == queue)
        if lane is not None:
            conditions.append(JobRow.lane == lane)
        async with self._session() as session:
            rows = await session.execute(select(JobRow).where(*conditions).order_by(JobRow.id))
            return [_row_to_job(row) for row in rows.scalars().all()]

    async def next_due(self, queue: str) -> float | None:
        """When the earliest waiting job of a queue becomes due, as a Unix time."""
        async with self._session() as session:
            found = await session.execute(
                select(func.min(JobRow.available_at)).where(
                    JobRow.queue == queue, JobRow.done_at.is_(None)
                )
            )
            return found.scalar_one_or_none()

    async def erase_lane(self, lane: str, queues: Iterable[str], keep: Iterable[int] = ()) -> int:
        """Delete every job of a lane in these queues (but the ids to keep); return how many."""
        async with self._session() as session:
            deleted = await session.execute(erase_lane_statement(lane, queues, keep))
            return int(deleted.rowcount or 0)  # type: ignore[attr-defined]

    async def purge(self, done_before: float) -> int:
        """Delete jobs done (delivered, taken or given up) before a Unix time; return how many."""
        async with self._session() as session:
            deleted = await session.execute(delete(JobRow).where(JobRow.done_at < done_before))
            return int(deleted.rowcount or 0)  # type: ignore[attr-defined]

    async def release_own_leases(self, queue: str) -> int:
        """Free a queue's jobs this worker id held when its process died, to run them again now.

        Such a job counts one more attempt, so that its handler knows it may have run before.
        """
        async with self._session() as session:
            released = await session.execute(
                update(JobRow)
                .where(
                    JobRow.queue == queue,
                    JobRow.locked_by == self.worker_id,
                    JobRow.done_at.is_(None),
                )
                .values(
                    locked_by=None,
                    locked_until=None,
                    attempts=JobRow.attempts + 1,
                    last_error="interrupted",
                )
            )
            return int(released.rowcount or 0)  # type: ignore[attr-defined]

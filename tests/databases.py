"""Real databases for the tests: a private PostgreSQL database per session, and empty ones."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

T = TypeVar("T")


def _run_in_thread(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop, away from the test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    """Turn a (SQLAlchemy or libpq) PostgreSQL URL into a DSN asyncpg accepts."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _create_scratch_database(url: str, name: str) -> bool:
    """Create a private database for this test session; False if not allowed."""
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        return False
    finally:
        await connection.close()
    return True


async def _drop_scratch_database(url: str, name: str) -> None:
    """Drop the private database of this test session."""
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Yield a PostgreSQL URL for this session, or skip (fail with REQUIRE_POSTGRES=1)."""
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"reception_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        private = _run_in_thread(lambda: _create_scratch_database(base_url, name))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        shown = make_url(base_url).render_as_string(hide_password=True)
        reason = f"PostgreSQL is unreachable at {shown} (TEST_POSTGRES_URL): {exc!r}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 forbids skipping.")
        pytest.skip(reason)
    if not private:
        yield base_url
        return
    try:
        yield _asyncpg_dsn(base_url, database=name)
    finally:
        _run_in_thread(lambda: _drop_scratch_database(base_url, name))


async def drop_all_tables(url: str) -> None:
    """Drop every table in the database, alembic_version included."""
    engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.begin() as connection:
            names = await connection.run_sync(lambda conn: inspect(conn).get_table_names())
            quote = connection.dialect.identifier_preparer.quote
            for name in names:
                await connection.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def empty_database(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[str]:
    """An empty database for a test parametrised "sqlite" or "postgres": the SQLite URL given,
    or the session's PostgreSQL database with every table dropped before and after.
    """
    if request.param == "sqlite":
        yield sqlite_url
        return
    url = request.getfixturevalue("postgres_url")
    await drop_all_tables(url)
    try:
        yield url
    finally:
        await drop_all_tables(url)

"""Fixtures for the reception tests: real SQLite and PostgreSQL databases, and the real app."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from reception.app import create_app
from reception.db import create_engine
from reception.models import StaffRole
from reception.settings import Settings, normalise_database_url
from tests.reception.support import FakeBot, StaffBrowser, add_staff

API_TOKEN = "test-reception-token"
SESSION_SECRET = "test-session-secret-0123456789"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

T = TypeVar("T")

ReceptionClient = TestClient[web.Request, web.Application]


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
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names = await connection.run_sync(lambda conn: inspect(conn).get_table_names())
            quote = connection.dialect.identifier_preparer.quote
            for name in names:
                await connection.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Yield an empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield normalise_database_url(f"sqlite:///{tmp_path / 'var' / 'reception.db'}")
        return
    url = normalise_database_url(request.getfixturevalue("postgres_url"))
    await drop_all_tables(url)
    try:
        yield url
    finally:
        await drop_all_tables(url)


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeBot]:
    """Yield a stand-in for the bot's delivery endpoint, served on a local port."""
    bot = FakeBot()
    bot.url = await bot.start()
    try:
        yield bot
    finally:
        await bot.close()


@pytest.fixture
def settings(database_url: str, fake_bot: FakeBot) -> Settings:
    """Return the settings of a reception service on the test database, next to a fake bot."""
    return Settings(
        api_token=API_TOKEN,
        session_secret=SESSION_SECRET,
        database_url=database_url,
        bot_url=fake_bot.url,
    )


@pytest.fixture
def auth_headers() -> dict[str, str]:
    """Return the headers that authenticate an API client."""
    return {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[ReceptionClient]:
    """Yield a client of the real app, built by create_app and served on a local port."""
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client


@pytest.fixture
async def browser(client: ReceptionClient) -> AsyncIterator[StaffBrowser]:
    """Yield the browser of a signed-in reception member (reception@example.org)."""
    await add_staff(client, "reception@example.org", StaffRole.RECEPTION)
    staff = StaffBrowser(client)
    response = await staff.login("reception@example.org")
    assert response.status == 303, await response.text()
    try:
        yield staff
    finally:
        await staff.close()

"""Fixtures for the reception tests: real SQLite and PostgreSQL databases, and the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from reception.app import create_app
from reception.models import StaffRole
from reception.settings import Settings, normalise_database_url
from tests.clamav import Clamd, running_clamd
from tests.databases import empty_database, postgres_url
from tests.reception.support import FakeBot, StaffBrowser, add_staff

__all__ = ["API_TOKEN", "SESSION_SECRET", "postgres_url"]

API_TOKEN = "test-reception-token"
SESSION_SECRET = "test-session-secret-0123456789"

ReceptionClient = TestClient[web.Request, web.Application]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Yield an empty database URL, once on SQLite and once on PostgreSQL."""
    sqlite_url = f"sqlite:///{tmp_path / 'var' / 'reception.db'}"
    async with empty_database(request, sqlite_url) as url:
        yield normalise_database_url(url)


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """Yield a real clamd on the offline EICAR database, one for the whole session."""
    with running_clamd(tmp_path_factory.mktemp("clamd")) as daemon:
        yield daemon


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
def settings(database_url: str, fake_bot: FakeBot, tmp_path: Path) -> Settings:
    """Return the settings of a reception service on the test database, next to a fake bot."""
    return Settings(
        api_token=API_TOKEN,
        session_secret=SESSION_SECRET,
        database_url=database_url,
        bot_url=fake_bot.url,
        files_dir=tmp_path / "records",
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

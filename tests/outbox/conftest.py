"""An empty outbox on SQLite and on PostgreSQL for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from outbox import Outbox, create_engine, normalise_url, upgrade
from tests.databases import empty_database, postgres_url

__all__ = ["postgres_url"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def outbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    async with empty_database(request, f"sqlite:///{tmp_path / 'var' / 'outbox.db'}") as url:
        yield normalise_url(url)


@pytest.fixture
async def outbox(outbox_url: str) -> AsyncIterator[Outbox]:
    """A migrated outbox on the test database, for the worker id "test"."""
    engine = create_engine(outbox_url)
    await upgrade(engine)
    try:
        yield Outbox(engine, worker_id="test")
    finally:
        await engine.dispose()

"""The one engine set-up: async drivers for plain URLs, and SQLite made safe to share."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sqlengine import create_engine, normalise_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_plain_urls_get_their_async_driver(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


async def test_sqlite_gets_its_folder_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "var" / "x.db"
    engine = create_engine(f"sqlite:///{database}")
    try:
        assert database.parent.is_dir()
        assert make_url(str(engine.url)).database == str(database)
        async with engine.connect() as connection:
            pragmas = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
        assert pragmas == ["wal", 1, 30_000, 1]
    finally:
        await engine.dispose()

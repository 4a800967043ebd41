"""Engine and session factories for the reception database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

# aiosqlite logs every statement with its parameters (patient details) at DEBUG; never show them.
SQLITE_DRIVER_LOGGER = "aiosqlite"


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine the app, migrations and tests share."""
    parsed = make_url(url)
    engine = _create_async_engine(parsed, hide_parameters=True, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        logging.getLogger(SQLITE_DRIVER_LOGGER).setLevel(logging.INFO)
        _ensure_sqlite_folder(parsed)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory used by request handlers."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _ensure_sqlite_folder(url: URL) -> None:
    """Create the folder that will hold a SQLite database file."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys, WAL and a busy timeout for each SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
    finally:
        cursor.close()

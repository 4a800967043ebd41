"""The async SQLAlchemy engine every database of the project is opened with.

Plain PostgreSQL and SQLite URLs are pointed at their asyncio drivers (asyncpg, aiosqlite). A
SQLite database gets its folder, WAL (which survives a killed process; NORMAL sync is durable
against that, and fast), a busy timeout for concurrent writers, and foreign keys. The SQLite
driver's statement log, which shows parameters (patient details), is kept quiet.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_DRIVER_LOGGER = "aiosqlite"
BUSY_TIMEOUT_MILLISECONDS = 30_000

_URL_PREFIXES = (
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgres://", "postgresql+asyncpg://"),
    ("sqlite:///", "sqlite+aiosqlite:///"),
)

__all__ = ["create_engine", "normalise_url"]


def normalise_url(url: str) -> str:
    """Point plain PostgreSQL and SQLite URLs at their asyncio drivers."""
    for prefix, replacement in _URL_PREFIXES:
        if url.startswith(prefix):
            return replacement + url.removeprefix(prefix)
    return url


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine for a database URL, plain or with its async driver."""
    parsed = make_url(normalise_url(url))
    engine = create_async_engine(parsed, hide_parameters=True, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        logging.getLogger(SQLITE_DRIVER_LOGGER).setLevel(logging.INFO)
        _ensure_sqlite_folder(parsed)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _ensure_sqlite_folder(url: URL) -> None:
    """Create the folder that will hold a SQLite database file."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys, WAL, NORMAL sync and a busy timeout for each SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MILLISECONDS}")
    finally:
        cursor.close()

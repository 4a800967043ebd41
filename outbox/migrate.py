"""Create or upgrade the outbox table with its Alembic migrations, from inside the event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Its own version table, so that the outbox can share a database with reception.
VERSION_TABLE = "outbox_alembic_version"
_MIGRATION_LOCK_ID = 0x5EC0_0002  # serialises the bot's and the actions' upgrades on PostgreSQL


def alembic_config(connection: Connection) -> Config:
    """The outbox's Alembic configuration, bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the outbox table to a revision (the latest by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Downgrade the outbox table to a revision (none at all by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(_run, command.downgrade, revision)


def _run(connection: Connection, step: object, revision: str) -> None:
    """Run one Alembic command under PostgreSQL's advisory lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
    step(alembic_config(connection), revision)  # type: ignore[operator]

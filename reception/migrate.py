"""Run the reception's Alembic migrations from inside the app's event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
_MIGRATION_LOCK_ID = 0x5EC0_0001  # serialises concurrent upgrades on PostgreSQL


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Return the Alembic config of this package, bound to a connection or a URL."""
    config = Config(str(ALEMBIC_INI))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to a revision (the latest by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Downgrade the database to a revision (an empty schema by default)."""
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    """Run `alembic upgrade` on a sync connection."""
    _lock(connection)
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    """Run `alembic downgrade` on a sync connection."""
    _lock(connection)
    command.downgrade(alembic_config(connection), revision)


def _lock(connection: Connection) -> None:
    """Hold a PostgreSQL advisory lock until the migration transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})

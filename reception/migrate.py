"""Run the reception's Alembic migrations from inside the app's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import outbox

from .wording import CodedError

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
_MIGRATION_LOCK_ID = 0x5EC0_0001  # serialises concurrent upgrades on PostgreSQL


class MigrationBroke(CodedError, RuntimeError):
    """A migration would have left rows that refer to rows that are gone."""

    code = "migration_broken_references"


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
    async with migration_connection(engine) as connection:
        await connection.run_sync(_upgrade, revision)


async def upgrade_all(engine: AsyncEngine) -> None:
    """Upgrade reception's tables and its outbox (same database) to their latest revisions."""
    await upgrade(engine)
    await outbox.upgrade(engine)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Downgrade the database to a revision (an empty schema by default)."""
    async with migration_connection(engine) as connection:
        await connection.run_sync(_downgrade, revision)


@asynccontextmanager
async def migration_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Yield a connection in a transaction that migrations can alter tables on.

    On SQLite, batch mode rebuilds a table by copying it and dropping the original; with
    foreign keys on, that drop would cascade into every table that refers to it (a ticket's
    events and notes). SQLite only switches them outside a transaction, so they go off before
    it begins, every reference is checked before it commits, and they come back on after.
    """
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                yield connection
                if sqlite:
                    await connection.run_sync(_check_foreign_keys)
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit a SQLite migration that left a reference to a missing row."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationBroke(count=len(broken), table=broken[0][0])


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

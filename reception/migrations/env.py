"""Alembic environment: migrate on a given connection, or on the configured URL."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from reception.migrate import migration_connection
from reception.models import Base
from reception.settings import database_url_from_env
from sqlengine import create_engine, normalise_url

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_on_url(url: str) -> None:
    """Open an engine on a URL, migrate, and dispose of it."""
    engine = create_engine(url)
    try:
        async with migration_connection(engine) as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline(url: str) -> None:
    """Write the migration SQL instead of running it (alembic --sql)."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Pick the way to migrate from what the caller gave Alembic."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = normalise_url(config.get_main_option("sqlalchemy.url") or database_url_from_env())
    if context.is_offline_mode():
        run_migrations_offline(url)
    else:
        asyncio.run(run_migrations_on_url(url))


main()

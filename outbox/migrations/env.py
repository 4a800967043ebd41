"""Alembic environment of the outbox: it always migrates on the connection it is given."""

from __future__ import annotations

from alembic import context

from outbox.migrate import VERSION_TABLE
from outbox.store import Base


def main() -> None:
    """Run the pending migrations on the connection outbox.migrate passes in."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


main()

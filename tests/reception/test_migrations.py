"""Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from reception.db import create_engine
from reception.migrate import alembic_config, downgrade, upgrade
from reception.models import Base

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _table_names(connection: Connection) -> set[str]:
    """Return the names of the tables in the database."""
    return set(inspect(connection).get_table_names())


def _schema_differences(connection: Connection) -> list[object]:
    """Return how the migrated schema differs from the models."""
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_upgrade_matches_models_and_downgrade_removes_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # running again is harmless
        async with engine.connect() as connection:
            assert {"tickets", "alembic_version"} <= await connection.run_sync(_table_names)
            assert await connection.run_sync(_schema_differences) == []
        await downgrade(engine)
        async with engine.connect() as connection:
            assert "tickets" not in await connection.run_sync(_table_names)
    finally:
        await engine.dispose()


def test_script_location_does_not_depend_on_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    location = Path(alembic_config().get_main_option("script_location") or "")
    assert location == PROJECT_ROOT / "reception" / "migrations"
    assert (location / "versions").is_dir()

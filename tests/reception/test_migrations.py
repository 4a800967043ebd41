"""Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

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


TABLES = {
    "tickets",
    "staff_users",
    "staff_sessions",
    "ticket_notes",
    "ticket_events",
    "content_gaps",
}


async def test_upgrade_matches_models_and_downgrade_removes_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # running again is harmless
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) == {*TABLES, "alembic_version"}
            assert await connection.run_sync(_schema_differences) == []
        await downgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) == {"alembic_version"}
    finally:
        await engine.dispose()


async def test_existing_tickets_survive_the_upgrade_and_the_way_back(database_url: str) -> None:
    engine = create_engine(database_url)
    row = {
        "reference": "SO-2026-00001",
        "kind": "request",
        "status": "new",
        "records": "{}",
        "language": "en",
        "channel": "telegram",
        "channel_address": "1",
        "transcript": "[]",
        "at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    insert = text(
        "INSERT INTO tickets (reference, kind, status, records, language, channel,"
        " channel_address, transcript, created_at, updated_at) VALUES (:reference, :kind,"
        " :status, :records, :language, :channel, :channel_address, :transcript, :at, :at)"
    )
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(insert, row)
        await upgrade(engine)
        async with engine.connect() as connection:
            migrated = await connection.execute(
                text("SELECT reference, version, assignee_id FROM tickets")
            )
            assert migrated.all() == [("SO-2026-00001", 1, None)]
        await downgrade(engine, "0001")
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) == {"tickets", "alembic_version"}
            kept = await connection.execute(text("SELECT reference FROM tickets"))
            assert kept.scalars().all() == ["SO-2026-00001"]
        await downgrade(engine)
    finally:
        await engine.dispose()


def test_script_location_does_not_depend_on_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    location = Path(alembic_config().get_main_option("script_location") or "")
    assert location == PROJECT_ROOT / "reception" / "migrations"
    assert (location / "versions").is_dir()


async def test_0004_dates_the_closing_of_final_tickets_and_goes_back(database_url: str) -> None:
    engine = create_engine(database_url)
    insert = text(
        "INSERT INTO tickets (reference, kind, status, records, language, channel,"
        " channel_address, transcript, created_at, updated_at, version) VALUES (:reference,"
        " 'request', :status, '{}', 'en', 'telegram', '1', '[]', :created, :updated, 1)"
    )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ("SO-2026-00001", "new", datetime(2026, 1, 2, tzinfo=UTC)),
        ("SO-2026-00002", "closed", datetime(2026, 1, 3, tzinfo=UTC)),
        ("SO-2026-00003", "cancelled", datetime(2026, 1, 4, tzinfo=UTC)),
        ("SO-2026-00004", "appointment_scheduled", datetime(2026, 1, 5, tzinfo=UTC)),
    ]
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as connection:
            for reference, status, updated in rows:
                await connection.execute(
                    insert,
                    {
                        "reference": reference,
                        "status": status,
                        "created": created,
                        "updated": updated,
                    },
                )
        await upgrade(engine, "0004")
        async with engine.connect() as connection:
            migrated = await connection.execute(
                text(
                    "SELECT reference, closed_at = updated_at, closed_at IS NULL, erased_at IS NULL"
                    " FROM tickets ORDER BY reference"
                )
            )
            assert [tuple(row) for row in migrated] == [
                ("SO-2026-00001", None, True, True),
                ("SO-2026-00002", True, False, True),
                ("SO-2026-00003", True, False, True),
                ("SO-2026-00004", None, True, True),
            ]
        await downgrade(engine, "0003")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda conn: {column["name"] for column in inspect(conn).get_columns("tickets")}
            )
            assert {"closed_at", "erased_at"}.isdisjoint(columns)
            kept = await connection.execute(text("SELECT reference FROM tickets ORDER BY id"))
            assert kept.scalars().all() == [reference for reference, _, _ in rows]
        await downgrade(engine)
    finally:
        await engine.dispose()

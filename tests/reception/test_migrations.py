"""Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import json
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


# A ticket as the early revisions stored it (ids follow the order of insertion).
INSERT_TICKET = text(
    "INSERT INTO tickets (reference, kind, status, records, language, channel,"
    " channel_address, transcript, created_at, updated_at, version) VALUES (:reference,"
    " 'request', :status, '{}', 'en', 'telegram', '1', '[]', :created, :updated, 1)"
)

TABLES = {
    "tickets",
    "staff_users",
    "staff_sessions",
    "ticket_notes",
    "ticket_events",
    "content_gaps",
    "staff_reminders",
    "funnel_counts",
    "topic_counts",
    "record_keys",
    "attachments",
    "upload_links",
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
    insert = INSERT_TICKET
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


async def test_0005_dates_the_service_level_clocks_from_the_audit_log(database_url: str) -> None:
    engine = create_engine(database_url)
    event = text(
        "INSERT INTO ticket_events (ticket_id, at, actor_type, actor, action, old_value,"
        " new_value) VALUES (:ticket, :at, 'service', 'test', :action, NULL, :new)"
    )

    def at(day: int, hour: int) -> datetime:
        return datetime(2027, 1, day, hour, tzinfo=UTC)

    try:
        await upgrade(engine, "0004")
        async with engine.begin() as connection:
            for number, status in [(1, "new"), (2, "appointment_scheduled"), (3, "in_progress")]:
                reference = f"SO-2027-0000{number}"
                stamps = {"created": at(11, 9), "updated": at(11, 9)}
                await connection.execute(
                    INSERT_TICKET, {"reference": reference, "status": status, **stamps}
                )
            for ticket_id, when, action, new in [
                (1, at(11, 9), "created", "request"),
                (2, at(11, 10), "status_changed", "in_progress"),
                (2, at(11, 12), "status_changed", "waiting_for_records"),
                (2, at(13, 12), "status_changed", "appointment_scheduled"),
                (3, at(12, 8), "message_sent", "Hello"),
                (3, at(12, 9), "status_changed", "in_progress"),
            ]:
                await connection.execute(
                    event, {"ticket": ticket_id, "at": when, "action": action, "new": new}
                )
        await upgrade(engine, "0005")
        async with engine.connect() as connection:
            migrated = await connection.execute(
                text(
                    "SELECT id, first_contact_at, decided_at, pauses, due_at"
                    " FROM tickets ORDER BY id"
                )
            )
            rows = [tuple(row) for row in migrated]
            # rebuilding tickets (SQLite's batch mode) must not cascade into their audit log
            kept = await connection.execute(text("SELECT count(*) FROM ticket_events"))
            assert kept.scalar_one() == 6

        def moment(value: object) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            assert isinstance(value, datetime)
            return value if value.tzinfo else value.replace(tzinfo=UTC)

        def pauses(value: object) -> object:
            return json.loads(value) if isinstance(value, str) else value

        assert [(i, moment(f), moment(d), pauses(p), due) for i, f, d, p, due in rows] == [
            (1, None, None, [], None),
            (2, at(11, 10), at(13, 12), [[at(11, 12).isoformat(), at(13, 12).isoformat()]], None),
            (3, at(12, 8), None, [], None),
        ]
        await downgrade(engine, "0004")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda conn: {column["name"] for column in inspect(conn).get_columns("tickets")}
            )
            assert {"first_contact_at", "decided_at", "pauses", "due_at"}.isdisjoint(columns)
        await downgrade(engine)
    finally:
        await engine.dispose()

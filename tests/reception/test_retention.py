"""Retention: when tickets close, which ones a pass purges, the period, and the scheduled job."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from sqlalchemy import update

from contentlib import ContentStore
from reception import erasure
from reception.appkeys import HOUSEKEEPING_KEY, SESSIONMAKER_KEY
from reception.models import Ticket, utcnow
from reception.retention import RetentionPeriodUnknown, purge_once, retention_days
from reception.settings import DEFAULT_CONTENT_DIR, Settings
from tests.content_fixture import content
from tests.reception.support import A_WORKING_MORNING, TICKETS, Client, create_ticket, serve
from tests.waiting import until

CLOSING = ("in_progress", "appointment_scheduled", "closed")
NOTICE_DAYS = yaml.safe_load((DEFAULT_CONTENT_DIR / "reference.yml").read_text())["privacy"][
    "retention_days_after_closing"
]


async def get(client: Client, headers: dict[str, str], reference: str) -> dict[str, Any]:
    """Return a ticket's JSON through the API."""
    return await (await client.get(f"{TICKETS}/{reference}", headers=headers)).json()


async def move(client: Client, headers: dict[str, str], reference: str, *statuses: str) -> None:
    """Walk a ticket through statuses with the API."""
    for status in statuses:
        response = await client.patch(
            f"{TICKETS}/{reference}", json={"status": status}, headers=headers
        )
        assert response.status == 200, await response.text()


async def closed_ticket(
    client: Client, headers: dict[str, str], days_ago: float, *statuses: str
) -> str:
    """Create a ticket, close it (or walk it through statuses), and date its closing back."""
    reference = (await create_ticket(client, headers))["reference"]
    await move(client, headers, reference, *(statuses or CLOSING))
    await set_closed_at(client, reference, utcnow() - timedelta(days=days_ago))
    return reference


async def set_closed_at(client: Client, reference: str, moment: datetime) -> None:
    """Pretend a ticket was closed at a moment."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        await session.execute(
            update(Ticket).where(Ticket.reference == reference).values(closed_at=moment)
        )
        await session.commit()


async def history_actions(client: Client, headers: dict[str, str], reference: str) -> list[Any]:
    """Return the (action, actor_type, actor) of each audit event of a ticket."""
    response = await client.get(f"{TICKETS}/{reference}/history", headers=headers)
    return [(e["action"], e["actor_type"], e["actor"]) for e in (await response.json())["items"]]


async def test_closing_or_cancelling_records_when(
    client: Client, auth_headers: dict[str, str]
) -> None:
    closed = (await create_ticket(client, auth_headers))["reference"]
    await move(client, auth_headers, closed, "in_progress", "appointment_scheduled")
    assert (await get(client, auth_headers, closed))["closed_at"] is None
    before = utcnow()
    await move(client, auth_headers, closed, "closed")
    closed_at = datetime.fromisoformat((await get(client, auth_headers, closed))["closed_at"])
    assert before <= closed_at <= utcnow()

    cancelled = (await create_ticket(client, auth_headers))["reference"]
    await move(client, auth_headers, cancelled, "cancelled")
    ticket = await get(client, auth_headers, cancelled)
    assert before <= datetime.fromisoformat(ticket["closed_at"]) <= utcnow()
    await move(client, auth_headers, cancelled, "cancelled")  # the same status again
    assert (await get(client, auth_headers, cancelled))["closed_at"] == ticket["closed_at"]


@time_machine.travel(A_WORKING_MORNING, tick=False)  # the clocks' time left stands still
async def test_a_pass_purges_only_final_tickets_closed_long_enough_ago(
    client: Client, auth_headers: dict[str, str]
) -> None:
    old_closed = await closed_ticket(client, auth_headers, 31)
    old_cancelled = await closed_ticket(client, auth_headers, 45, "in_progress", "cancelled")
    recent = await closed_ticket(client, auth_headers, 29)
    open_ticket = (await create_ticket(client, auth_headers))["reference"]
    await set_closed_at(client, open_ticket, utcnow() - timedelta(days=400))  # not final
    erased = (await create_ticket(client, auth_headers, channel_address="erased-chat"))["reference"]
    await move(client, auth_headers, erased, *CLOSING)
    body = {"channel": "telegram", "channel_address": "erased-chat"}
    response = await client.post("/api/v1/erasures", json=body, headers=auth_headers)
    assert await response.json() == {"erased": [erased]}
    await set_closed_at(client, erased, utcnow() - timedelta(days=100))
    untouched = {ref: await get(client, auth_headers, ref) for ref in (recent, open_ticket, erased)}
    store = ContentStore(DEFAULT_CONTENT_DIR)

    purged = await purge_once(client.app[SESSIONMAKER_KEY], 30, store)
    assert purged == [old_closed, old_cancelled]

    for reference, status in [(old_closed, "closed"), (old_cancelled, "cancelled")]:
        ticket = await get(client, auth_headers, reference)
        assert (ticket["status"], ticket["contact"]["name"], ticket["channel_address"]) == (
            status,
            None,
            "",
        )
        assert ticket["erased_at"] is not None
        assert (await history_actions(client, auth_headers, reference))[-1] == (
            "purged",
            "service",
            "retention",
        )
    for reference, ticket in untouched.items():
        assert await get(client, auth_headers, reference) == ticket
    assert await purge_once(client.app[SESSIONMAKER_KEY], 30, store) == []


def test_the_period_is_the_privacy_notices_unless_configured(tmp_path: Path) -> None:
    assert isinstance(NOTICE_DAYS, int) and NOTICE_DAYS > 0
    assert retention_days(None, ContentStore(DEFAULT_CONTENT_DIR)) == NOTICE_DAYS
    assert retention_days(7, ContentStore(DEFAULT_CONTENT_DIR)) == 7
    root = content(tmp_path, privacy=False)
    store = ContentStore(root, refresh_seconds=0)
    with pytest.raises(RetentionPeriodUnknown, match="RECEPTION_RETENTION_DAYS"):
        retention_days(None, store)
    reference = root / "reference.yml"
    original = reference.read_text()
    for bad in ("ninety", "0", "true", "-5"):
        reference.write_text(f"{original}privacy:\n  retention_days_after_closing: {bad}\n")
        with pytest.raises(RetentionPeriodUnknown):
            retention_days(None, ContentStore(root))
    reference.write_text(f"{original}privacy:\n  retention_days_after_closing: 12\n")
    assert retention_days(None, ContentStore(root)) == 12


async def test_the_job_purges_at_start_with_the_privacy_notices_period(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    expired = await closed_ticket(client, auth_headers, NOTICE_DAYS + 1)
    kept = await closed_ticket(client, auth_headers, NOTICE_DAYS - 1)
    async with serve(settings) as restarted:  # a second process on the same database

        async def purged() -> bool:
            """Tell whether the job erased the expired ticket."""
            return (await get(restarted, auth_headers, expired))["erased_at"] is not None

        await until(purged)
        assert (await get(restarted, auth_headers, kept))["erased_at"] is None


async def test_the_job_runs_again_every_interval_and_stops_with_the_app(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    quick = dataclasses.replace(settings, retention_days=30, retention_interval_seconds=0.05)
    async with serve(quick) as client:
        reference = await closed_ticket(client, auth_headers, 31)

        async def purged() -> bool:
            """Tell whether a later pass erased the ticket."""
            return (await get(client, auth_headers, reference))["erased_at"] is not None

        await until(purged)
        task = client.app[HOUSEKEEPING_KEY]
        assert not task.done()
    assert task.done() and not task.cancelled()


async def test_a_failed_pass_is_logged_without_patient_data_and_the_next_one_runs(
    settings: Settings,
    auth_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = erasure.purge_closed_tickets
    calls: list[datetime] = []

    async def flaky(session: Any, closed_before: datetime) -> list[str]:
        """Fail the first passes with an error that quotes a patient, then purge for real."""
        calls.append(closed_before)
        if len(calls) <= 2:
            raise RuntimeError("cannot update Ada Example, +32 470 12 34 56")
        return await real(session, closed_before)

    monkeypatch.setattr(erasure, "purge_closed_tickets", flaky)
    quick = dataclasses.replace(settings, retention_days=30, retention_interval_seconds=0.05)
    with caplog.at_level(logging.INFO, logger="reception.retention"):
        async with serve(quick) as client:
            reference = await closed_ticket(client, auth_headers, 31)

            async def purged() -> bool:
                """Tell whether a pass after the failures erased the ticket."""
                return (await get(client, auth_headers, reference))["erased_at"] is not None

            await until(purged)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) >= 2
    assert "retention: the pass failed (RuntimeError)" in failures[0].getMessage()
    assert "retention: tickets purged: 1" in caplog.messages
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Ada Example" not in logged
    assert "+32 470" not in logged
    assert all(record.exc_info is None for record in caplog.records)

"""Erasing a patient's personal data: POST /api/v1/erasures, what a ticket keeps, the inbox."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from reception import erasure
from reception.appkeys import SESSIONMAKER_KEY
from reception.models import Ticket, TicketAction, TicketEvent, TicketNote
from reception.queries import Actor
from tests.reception.support import (
    TICKETS,
    Client,
    FakeBot,
    StaffBrowser,
    add_staff,
    create_ticket,
    error_of,
    ticket_body,
)

ERASURES = "/api/v1/erasures"
ADDRESS = "987654321"
# Everything personal the tickets below hold; none of it may survive an erasure.
SECRETS = [
    "Zebedee Quill",
    "+32 470 98 76 54",
    "zebedee@example.org",
    "after six",
    "my scan shows a shadow",
    "I am worried",
    "Call the GP first",
    "See you on Monday",
    ADDRESS,
    "colorectal",
    "recurrence",
    "abroad",
    "pathology",
]


def personal(**overrides: Any) -> dict[str, Any]:
    """Return ticket fields full of the personal details listed in SECRETS."""
    fields: dict[str, Any] = {
        "cancer_type": "colorectal",
        "stage": "recurrence",
        "residence": "abroad",
        "records": {"pathology": "have", "imaging": "not_yet"},
        "contact": {
            "name": "Zebedee Quill",
            "phone": "+32 470 98 76 54",
            "email": "zebedee@example.org",
            "preferred_time": "after six",
        },
        "channel_address": ADDRESS,
        "transcript": [
            {"at": "2026-03-01T09:00:00Z", "sender": "patient", "text": "my scan shows a shadow"},
            {"at": "2026-03-01T09:00:01Z", "sender": "patient", "text": "I am worried"},
        ],
    }
    fields.update(overrides)
    return fields


async def history_of(client: Client, headers: dict[str, str], reference: str) -> list[Any]:
    """Return a ticket's audit log through the API."""
    response = await client.get(f"{TICKETS}/{reference}/history", headers=headers)
    return (await response.json())["items"]


async def get(client: Client, headers: dict[str, str], reference: str) -> dict[str, Any]:
    """Return a ticket's JSON through the API."""
    return await (await client.get(f"{TICKETS}/{reference}", headers=headers)).json()


async def erase(
    client: Client, headers: dict[str, str], channel: str = "telegram", address: str = ADDRESS
) -> Any:
    """Ask reception to erase a conversation and return the response."""
    body = {"channel": channel, "channel_address": address}
    return await client.post(ERASURES, json=body, headers=headers)


async def stored_text(client: Client, reference: str) -> str:
    """Return every stored column of a ticket, its notes and its events, as one text."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert ticket is not None
        rows: list[Any] = [ticket]
        rows += (
            await session.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket.id))
        ).all()
        rows += (
            await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
        ).all()
        return "\n".join(
            repr({column.key: getattr(row, column.key) for column in row.__table__.columns})
            for row in rows
        )


async def worked_ticket(
    client: Client, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """Create a ticket full of personal details, assign it, and add a note and a message."""
    ticket = await create_ticket(client, headers, **personal(**overrides))
    reference = ticket["reference"]
    await add_staff(client, "ana@example.org")
    await client.patch(f"{TICKETS}/{reference}", json={"status": "in_progress"}, headers=headers)
    await client.patch(
        f"{TICKETS}/{reference}", json={"assignee": "ana@example.org"}, headers=headers
    )
    await client.post(
        f"{TICKETS}/{reference}/notes", json={"text": "Call the GP first"}, headers=headers
    )
    response = await client.post(
        f"{TICKETS}/{reference}/messages", json={"text": "See you on Monday"}, headers=headers
    )
    assert response.status == 201, await response.text()
    return await get(client, headers, reference)


async def test_erasure_anonymises_the_conversations_tickets_and_keeps_the_audit_trail(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    before = await worked_ticket(client, auth_headers)
    reference = before["reference"]
    history_before = await history_of(client, auth_headers, reference)

    response = await erase(client, auth_headers)
    assert response.status == 200
    assert await response.json() == {"erased": [reference]}

    after = await get(client, auth_headers, reference)
    erased_fields = {
        "cancer_type": None,
        "stage": None,
        "residence": None,
        "records": {},
        "contact": {"name": None, "phone": None, "email": None, "preferred_time": None},
        "channel_address": "",
        "transcript": [],
        "status": "cancelled",
    }
    kept = {key: value for key, value in before.items() if key not in erased_fields}
    for key in ("notes", "updated_at", "closed_at", "erased_at"):
        kept.pop(key)
    assert {key: after[key] for key in kept} == kept
    assert {key: after[key] for key in erased_fields} == erased_fields
    assert after["department"] == before["department"] == "breast_clinic"
    assert [(note["id"], note["author"], note["text"]) for note in after["notes"]] == [
        (before["notes"][0]["id"], "service", "")
    ]
    assert after["erased_at"] is not None
    assert after["closed_at"] == after["erased_at"]
    assert datetime.fromisoformat(after["erased_at"]) >= datetime.fromisoformat(
        before["updated_at"]
    )

    history = await history_of(client, auth_headers, reference)
    assert len(history) == len(history_before) + 2
    old = {event["action"]: event for event in history_before}
    kept_events = {event["action"]: event for event in history[: len(history_before)]}
    assert kept_events["created"] == old["created"]
    assert kept_events["status_changed"] == old["status_changed"]
    assert kept_events["assignee_changed"]["new_value"] == "ana@example.org"
    assert kept_events["note_added"]["new_value"] == ""
    assert kept_events["message_sent"]["new_value"] == ""
    assert [
        (e["action"], e["actor_type"], e["old_value"], e["new_value"]) for e in history[-2:]
    ] == [
        ("status_changed", "service", "in_progress", "cancelled"),
        ("erased", "service", None, None),
    ]

    text = await stored_text(client, reference)
    for secret in SECRETS:
        assert secret not in text, secret


async def test_only_the_conversations_own_tickets_are_erased(
    client: Client, auth_headers: dict[str, str]
) -> None:
    first = (await create_ticket(client, auth_headers, **personal()))["reference"]
    callback = await create_ticket(
        client, auth_headers, **personal(kind="callback", contact={"name": "Zebedee Quill"})
    )
    for status in ("in_progress", "appointment_scheduled", "closed"):
        await client.patch(f"{TICKETS}/{first}", json={"status": status}, headers=auth_headers)
    other_address = await create_ticket(client, auth_headers, channel_address="111")
    other_channel = await create_ticket(
        client, auth_headers, channel="webchat", channel_address=ADDRESS
    )

    response = await erase(client, auth_headers)
    assert await response.json() == {"erased": [first, callback["reference"]]}

    closed = await get(client, auth_headers, first)
    assert (closed["status"], closed["contact"]["name"]) == ("closed", None)
    assert [event["action"] for event in await history_of(client, auth_headers, first)][-2:] == [
        "status_changed",
        "erased",
    ]  # a final ticket keeps its status: no second status change
    assert (await get(client, auth_headers, callback["reference"]))["status"] == "cancelled"
    for untouched in (other_address, other_channel):
        assert await get(client, auth_headers, untouched["reference"]) == untouched


async def test_erasing_twice_or_an_unknown_conversation_is_harmless(
    client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers, **personal()))["reference"]
    assert await (await erase(client, auth_headers)).json() == {"erased": [reference]}
    once = await get(client, auth_headers, reference)
    history = await history_of(client, auth_headers, reference)

    again = await erase(client, auth_headers)
    assert (again.status, await again.json()) == (200, {"erased": []})
    nobody = await erase(client, auth_headers, channel="webchat", address="no-such-session")
    assert (nobody.status, await nobody.json()) == (200, {"erased": []})
    async with client.app[SESSIONMAKER_KEY]() as session:
        first = await erasure.anonymise_ticket(
            session, reference, Actor.service(), TicketAction.ERASED
        )
    assert first is False
    assert await get(client, auth_headers, reference) == once
    assert await history_of(client, auth_headers, reference) == history


async def test_an_idempotent_retry_returns_the_erased_ticket(
    client: Client, auth_headers: dict[str, str]
) -> None:
    headers = {**auth_headers, "Idempotency-Key": "request-1"}
    body = ticket_body(**personal())
    created = await (await client.post(TICKETS, json=body, headers=headers)).json()
    await erase(client, auth_headers)
    replay = await client.post(TICKETS, json=body, headers=headers)
    assert replay.status == 200
    replayed = await replay.json()
    assert (replayed["reference"], replayed["contact"]["name"]) == (created["reference"], None)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "telegram"}, 422, "validation_error"),
        ({"channel": "telegram", "channel_address": ""}, 422, "validation_error"),
        ({"channel": "telegram", "channel_address": "   "}, 422, "validation_error"),
        ({"channel": "sms", "channel_address": "1"}, 422, "validation_error"),
        ({"channel": "telegram", "channel_address": "1", "name": "x"}, 422, "validation_error"),
        ([{"channel": "telegram", "channel_address": "1"}], 400, "invalid_body"),
    ],
    ids=["no-address", "empty-address", "blank-address", "bad-channel", "extra-field", "array"],
)
async def test_malformed_erasure_bodies_are_refused(
    client: Client, auth_headers: dict[str, str], body: Any, status: int, code: str
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    response = await client.post(ERASURES, json=body, headers=auth_headers)
    assert response.status == status
    assert (await error_of(response))["code"] == code
    assert (await get(client, auth_headers, reference))["erased_at"] is None


async def test_erasure_needs_json_and_the_token(
    client: Client, auth_headers: dict[str, str]
) -> None:
    response = await client.post(ERASURES, data="channel=telegram", headers=auth_headers)
    assert (response.status, (await error_of(response))["code"]) == (415, "unsupported_media_type")
    response = await client.post(
        ERASURES, data="{", headers={**auth_headers, "Content-Type": "application/json"}
    )
    assert (response.status, (await error_of(response))["code"]) == (400, "invalid_json")
    response = await client.post(ERASURES, json={"channel": "telegram", "channel_address": "1"})
    assert response.status == 401


async def test_no_patient_detail_is_logged_while_erasing(
    client: Client,
    auth_headers: dict[str, str],
    fake_bot: FakeBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await worked_ticket(client, auth_headers)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        response = await erase(client, auth_headers)
        assert response.status == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "tickets erased at the patient's request: 1" in logged
    for secret in SECRETS:
        assert secret not in logged, secret


async def test_no_message_reaches_an_erased_ticket(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    reference = (await create_ticket(client, auth_headers, **personal()))["reference"]
    await erase(client, auth_headers)
    response = await client.post(
        f"{TICKETS}/{reference}/messages", json={"text": "Hello?"}, headers=auth_headers
    )
    assert response.status == 409
    assert (await error_of(response))["code"] == "ticket_erased"
    assert fake_bot.deliveries == []
    assert (await get(client, auth_headers, reference))["transcript"] == []


async def test_the_inbox_shows_that_a_tickets_data_was_erased(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, fake_bot: FakeBot
) -> None:
    reference = (await worked_ticket(client, auth_headers))["reference"]
    await erase(client, auth_headers)
    erased_at = (await get(client, auth_headers, reference))["erased_at"]
    day = erased_at[:10]

    response, text = await browser.get("/inbox?status=all")
    assert response.status == 200
    assert f"Personal data erased {day}" in text
    response, _ = await browser.get("/inbox/tickets.json?status=all")
    [row] = (await response.json())["rows"]
    assert (row["reference"], row["name"]) == (reference, f"Personal data erased {day}")

    response, text = await browser.get(f"/inbox/tickets/{reference}")
    assert response.status == 200
    assert "<strong>Personal data erased</strong>" in text
    assert "at the patient&#39;s request" in text
    assert "(text erased)" in text
    assert "Personal data erased at the patient&#39;s request" in text  # the history line
    assert "Send to patient" not in text
    assert "No message can reach this patient" in text
    for secret in SECRETS:
        assert secret not in text, secret

    response, text = await browser.post(f"/inbox/tickets/{reference}/messages", {"text": "Hi"})
    assert response.status == 409
    assert "personal data was erased" in text
    assert fake_bot.deliveries == [
        delivery for delivery in fake_bot.deliveries if delivery["text"] == "See you on Monday"
    ]

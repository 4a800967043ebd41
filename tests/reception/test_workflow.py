"""The ticket workflow over the API: transitions, assignees, notes, filters and the audit log."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from reception.models import TRANSITIONS, StaffRole, TicketStatus
from tests.reception.support import (
    TICKETS,
    Client,
    add_staff,
    create_ticket,
    error_of,
    ticket_body,
)

# How to reach each status from new, through allowed transitions only.
PATH_TO = {
    TicketStatus.NEW: [],
    TicketStatus.IN_PROGRESS: ["in_progress"],
    TicketStatus.WAITING_FOR_RECORDS: ["in_progress", "waiting_for_records"],
    TicketStatus.APPOINTMENT_SCHEDULED: ["in_progress", "appointment_scheduled"],
    TicketStatus.CLOSED: ["in_progress", "appointment_scheduled", "closed"],
    TicketStatus.CANCELLED: ["cancelled"],
}
ALLOWED = {
    ("new", "in_progress"),
    ("new", "cancelled"),
    ("in_progress", "waiting_for_records"),
    ("in_progress", "appointment_scheduled"),
    ("in_progress", "cancelled"),
    ("waiting_for_records", "appointment_scheduled"),
    ("waiting_for_records", "cancelled"),
    ("appointment_scheduled", "closed"),
    ("appointment_scheduled", "cancelled"),
}


async def patch(client: Client, headers: dict[str, str], reference: str, body: Any) -> Any:
    """Send a PATCH to one ticket."""
    return await client.patch(f"{TICKETS}/{reference}", json=body, headers=headers)


async def history(client: Client, headers: dict[str, str], reference: str) -> list[dict]:
    """Return a ticket's audit log."""
    response = await client.get(f"{TICKETS}/{reference}/history", headers=headers)
    assert response.status == 200
    return (await response.json())["items"]


async def ticket_in(client: Client, headers: dict[str, str], status: TicketStatus) -> str:
    """Create a ticket and walk it to a status; return its reference."""
    reference = (await create_ticket(client, headers))["reference"]
    for step in PATH_TO[status]:
        response = await patch(client, headers, reference, {"status": step})
        assert response.status == 200, await response.text()
    return reference


def test_the_workflow_table_is_the_documented_one() -> None:
    pairs = {
        (source.value, target.value)
        for source, targets in TRANSITIONS.items()
        for target in targets
    }
    assert pairs == ALLOWED


@pytest.mark.parametrize("source", list(TicketStatus), ids=str)
async def test_every_transition_from_a_status(
    client: Client, auth_headers: dict[str, str], source: TicketStatus
) -> None:
    """Allowed moves succeed and are audited; forbidden ones are 409 and change nothing."""
    for target in TicketStatus:
        if target == source:
            continue
        reference = await ticket_in(client, auth_headers, source)
        before = await history(client, auth_headers, reference)
        response = await patch(client, auth_headers, reference, {"status": target.value})
        after = await history(client, auth_headers, reference)
        if (source.value, target.value) in ALLOWED:
            assert response.status == 200, (source, target, await response.text())
            assert (await response.json())["status"] == target.value
            assert after[-1]["action"] == "status_changed"
            assert (after[-1]["old_value"], after[-1]["new_value"]) == (source, target)
            assert (after[-1]["actor_type"], after[-1]["actor"]) == ("service", "service")
        else:
            assert response.status == 409, (source, target)
            error = await error_of(response)
            assert error["code"] == "transition_not_allowed"
            assert f"'{source.value}' cannot move to '{target.value}'" in error["message"]
            assert "Allowed next statuses" in error["message"]
            assert after == before
            current = await client.get(f"{TICKETS}/{reference}", headers=auth_headers)
            assert (await current.json())["status"] == source.value


async def test_setting_the_same_status_changes_nothing(
    client: Client, auth_headers: dict[str, str]
) -> None:
    reference = await ticket_in(client, auth_headers, TicketStatus.IN_PROGRESS)
    before = await history(client, auth_headers, reference)
    response = await patch(client, auth_headers, reference, {"status": "in_progress"})
    assert response.status == 200
    assert await history(client, auth_headers, reference) == before


async def test_concurrent_status_changes_record_one_event(
    client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    responses = await asyncio.gather(
        *(patch(client, auth_headers, reference, {"status": "in_progress"}) for _ in range(10))
    )
    assert [response.status for response in responses] == [200] * 10
    changes = [
        event
        for event in await history(client, auth_headers, reference)
        if event["action"] == "status_changed"
    ]
    assert len(changes) == 1


async def test_concurrent_notes_are_all_kept(client: Client, auth_headers: dict[str, str]) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    responses = await asyncio.gather(
        *(
            client.post(
                f"{TICKETS}/{reference}/notes", json={"text": f"note {n}"}, headers=auth_headers
            )
            for n in range(10)
        )
    )
    assert sorted(response.status for response in responses) == [201] * 10
    ticket = await (await client.get(f"{TICKETS}/{reference}", headers=auth_headers)).json()
    assert sorted(note["text"] for note in ticket["notes"]) == sorted(
        f"note {n}" for n in range(10)
    )


async def test_assign_and_unassign(client: Client, auth_headers: dict[str, str]) -> None:
    await add_staff(client, "Ana@Example.org", StaffRole.RECEPTION)
    reference = (await create_ticket(client, auth_headers))["reference"]

    response = await patch(client, auth_headers, reference, {"assignee": "ANA@example.org"})
    assert response.status == 200, await response.text()
    assert (await response.json())["assignee"] == "ana@example.org"

    response = await patch(
        client, auth_headers, reference, {"assignee": None, "status": "in_progress"}
    )
    body = await response.json()
    assert (body["assignee"], body["status"]) == (None, "in_progress")
    events = [
        (e["action"], e["old_value"], e["new_value"])
        for e in await history(client, auth_headers, reference)
    ]
    assert events[1:] == [
        ("assignee_changed", None, "ana@example.org"),
        ("status_changed", "new", "in_progress"),
        ("assignee_changed", "ana@example.org", None),
    ]


@pytest.mark.parametrize("who", ["nobody@example.org", "editor@example.org", "gone@example.org"])
async def test_only_active_ticket_workers_can_be_assigned(
    client: Client, auth_headers: dict[str, str], who: str
) -> None:
    await add_staff(client, "editor@example.org", StaffRole.EDITOR)
    gone = await add_staff(client, "gone@example.org", StaffRole.RECEPTION)
    from reception import accounts
    from reception.appkeys import SESSIONMAKER_KEY

    async with client.app[SESSIONMAKER_KEY]() as session:
        await accounts.set_active(session, gone, False)
    reference = (await create_ticket(client, auth_headers))["reference"]
    response = await patch(client, auth_headers, reference, {"assignee": who})
    assert response.status == 422
    error = await error_of(response)
    assert error["code"] == "unknown_assignee"
    assert error["details"][0]["field"] == "assignee"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "validation_error"),
        ({"status": None}, 422, "validation_error"),
        ({"status": "lost"}, 422, "validation_error"),
        ({"status": "closed", "colour": "red"}, 422, "validation_error"),
        ({"assignee": "not-an-email"}, 422, "validation_error"),
        ([{"status": "closed"}], 400, "invalid_body"),
    ],
    ids=["empty", "null-status", "unknown-status", "extra-field", "bad-email", "array"],
)
async def test_bad_patch_bodies_are_4xx(
    client: Client, auth_headers: dict[str, str], body: Any, status: int, code: str
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    response = await patch(client, auth_headers, reference, body)
    assert response.status == status
    error = await error_of(response)
    assert error["code"] == code
    assert error["message"]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"status": "in_progress"}),
        ("POST", "/notes", {"text": "hello"}),
        ("POST", "/messages", {"text": "hello"}),
        ("GET", "/history", None),
    ],
)
async def test_unknown_ticket_is_404_everywhere(
    client: Client, auth_headers: dict[str, str], method: str, suffix: str, body: Any
) -> None:
    response = await client.request(
        method, f"{TICKETS}/SO-2026-99999{suffix}", json=body, headers=auth_headers
    )
    assert response.status == 404
    assert (await error_of(response))["code"] == "ticket_not_found"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("PATCH", ""), ("POST", "/notes"), ("POST", "/messages"), ("GET", "/history"), ("GET", "")],
)
async def test_new_endpoints_need_the_token(client: Client, method: str, suffix: str) -> None:
    response = await client.request(method, f"{TICKETS}/SO-2026-00001{suffix}", json={})
    assert response.status == 401
    assert (await error_of(response))["code"] == "unauthorized"


async def test_notes(client: Client, auth_headers: dict[str, str]) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    response = await client.post(
        f"{TICKETS}/{reference}/notes",
        json={"text": "  Called, no answer.  "},
        headers=auth_headers,
    )
    assert response.status == 201
    note = await response.json()
    assert (note["text"], note["author"]) == ("Called, no answer.", "service")
    ticket = await (await client.get(f"{TICKETS}/{reference}", headers=auth_headers)).json()
    assert ticket["notes"] == [note]
    assert ticket["updated_at"] >= ticket["created_at"]
    last = (await history(client, auth_headers, reference))[-1]
    assert (last["action"], last["new_value"]) == ("note_added", "Called, no answer.")


@pytest.mark.parametrize(
    "body", [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 5001}, {"text": 5}]
)
async def test_bad_notes_are_422(
    client: Client, auth_headers: dict[str, str], body: dict[str, Any]
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    response = await client.post(f"{TICKETS}/{reference}/notes", json=body, headers=auth_headers)
    assert response.status == 422
    assert (await error_of(response))["details"][0]["field"] == "text"


async def test_the_audit_log_tells_the_whole_story(
    client: Client, auth_headers: dict[str, str], fake_bot: Any
) -> None:
    await add_staff(client, "ana@example.org")
    reference = (await create_ticket(client, auth_headers))["reference"]
    await patch(
        client, auth_headers, reference, {"status": "in_progress", "assignee": "ana@example.org"}
    )
    await client.post(f"{TICKETS}/{reference}/notes", json={"text": "n1"}, headers=auth_headers)
    await client.post(f"{TICKETS}/{reference}/messages", json={"text": "m1"}, headers=auth_headers)
    events = await history(client, auth_headers, reference)
    assert [(e["action"], e["old_value"], e["new_value"]) for e in events] == [
        ("created", None, "request"),
        ("status_changed", "new", "in_progress"),
        ("assignee_changed", None, "ana@example.org"),
        ("note_added", None, "n1"),
        ("message_sent", None, "m1"),
    ]
    assert {(e["actor_type"], e["actor"]) for e in events} == {("service", "service")}
    times = [e["at"] for e in events]
    assert times == sorted(times)


async def test_callback_request_needs_no_phone(
    client: Client, auth_headers: dict[str, str]
) -> None:
    body = ticket_body(kind="callback", contact={"name": "Ada"})
    response = await client.post(TICKETS, json=body, headers=auth_headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["contact"]["phone"] is None

    response = await client.post(
        TICKETS, json=ticket_body(contact={"name": "Ada"}), headers=auth_headers
    )
    assert response.status == 422
    assert [d["field"] for d in (await error_of(response))["details"]] == ["contact.phone"]

    response = await client.post(
        TICKETS, json=ticket_body(contact={"name": "Ada", "phone": None}), headers=auth_headers
    )
    assert response.status == 422


async def test_list_filters(client: Client, auth_headers: dict[str, str]) -> None:
    await add_staff(client, "ana@example.org")
    ada = await create_ticket(
        client, auth_headers, channel="webchat", channel_address="session-ada-1"
    )
    bob = await create_ticket(
        client,
        auth_headers,
        department="lung_clinic",
        contact={"name": "Bob O'Brien", "phone": "0470123456"},
        channel_address="555",
    )
    pct = await create_ticket(
        client, auth_headers, contact={"name": "100% Sure", "phone": "0470123456"}
    )
    await patch(client, auth_headers, bob["reference"], {"assignee": "ana@example.org"})

    async def found(**params: str) -> list[str]:
        response = await client.get(TICKETS, params=params, headers=auth_headers)
        assert response.status == 200, await response.text()
        return [item["reference"] for item in (await response.json())["items"]]

    assert await found(department="lung_clinic") == [bob["reference"]]
    assert await found(channel="webchat", channel_address="session-ada-1") == [ada["reference"]]
    assert await found(channel="telegram", channel_address="session-ada-1") == []
    assert await found(channel="telegram", channel_address="555") == [bob["reference"]]
    assert await found(assignee="ana@example.org") == [bob["reference"]]
    assert await found(assignee="none") == [pct["reference"], ada["reference"]]
    assert await found(q="o'brien") == [bob["reference"]]
    assert await found(q="ADA") == [ada["reference"]]
    assert await found(q=bob["reference"][-5:]) == [bob["reference"]]
    assert await found(q="100%") == [pct["reference"]]
    assert await found(q="%") == [pct["reference"]]
    assert await found(q="_") == []
    assert await found(q="") == [pct["reference"], bob["reference"], ada["reference"]]
    assert await found(status="new", department="breast_clinic", q="ada") == [ada["reference"]]


@pytest.mark.parametrize(
    "params",
    [{"assignee": "someone"}, {"channel": "sms"}, {"q": "x" * 201}, {"channel_address": ""}],
)
async def test_bad_filters_are_400(
    client: Client, auth_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get(TICKETS, params=params, headers=auth_headers)
    assert response.status == 400
    error = await error_of(response)
    assert error["code"] == "invalid_query"
    assert [detail["field"] for detail in error["details"]] == list(params)


async def test_notes_and_messages_stay_out_of_the_logs(
    client: Client, auth_headers: dict[str, str], caplog: pytest.LogCaptureFixture, fake_bot: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="reception")
    reference = (await create_ticket(client, auth_headers))["reference"]
    await client.post(
        f"{TICKETS}/{reference}/notes", json={"text": "Secret note"}, headers=auth_headers
    )
    await client.post(
        f"{TICKETS}/{reference}/messages", json={"text": "Secret message"}, headers=auth_headers
    )
    fake_bot.status = 502
    await client.post(
        f"{TICKETS}/{reference}/messages", json={"text": "Failed secret"}, headers=auth_headers
    )
    for secret in ["Secret note", "Secret message", "Failed secret", "Ada Example", "123456789"]:
        assert secret not in caplog.text

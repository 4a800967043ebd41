"""The ticket API, driven over HTTP against the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.reception.support import (
    A_WORKING_MORNING,
    TICKETS,
    Client,
    create_ticket,
    error_of,
    ticket_body,
)

create = create_ticket


async def test_healthz_needs_no_token(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer tést-reception-tøken"},
    ],
    ids=["missing", "wrong", "basic", "empty", "non-ascii"],
)
async def test_api_refuses_requests_without_the_token(
    client: Client, headers: dict[str, str]
) -> None:
    for method, path in [("GET", TICKETS), ("POST", TICKETS), ("GET", "/api/v1/nowhere")]:
        response = await client.request(method, path, headers=headers, json=ticket_body())
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert (await error_of(response))["code"] == "unauthorized"


@time_machine.travel(A_WORKING_MORNING, tick=False)  # the clocks' time left stands still
async def test_create_get_and_list(client: Client, auth_headers: dict[str, str]) -> None:
    response = await client.post(TICKETS, json=ticket_body(), headers=auth_headers)
    assert response.status == 201
    created = await response.json()
    assert response.headers["Location"] == f"{TICKETS}/{created['reference']}"
    assert created["status"] == "new"
    assert created["contact"] == ticket_body()["contact"]
    assert created["records"] == ticket_body()["records"]
    assert created["transcript"][0] == {
        "at": "2026-03-01T09:00:00Z",
        "sender": "patient",
        "text": "Hello",
    }

    fetched = await client.get(f"{TICKETS}/{created['reference']}", headers=auth_headers)
    assert fetched.status == 200
    assert await fetched.json() == created

    listed = await client.get(TICKETS, headers=auth_headers)
    assert listed.status == 200
    assert await listed.json() == {"items": [created], "total": 1, "limit": 50, "offset": 0}


async def test_ticket_json_has_the_documented_shape(
    client: Client, auth_headers: dict[str, str]
) -> None:
    ticket = await create(client, auth_headers)
    assert list(ticket) == [
        "reference",
        "kind",
        "status",
        "cancer_type",
        "department",
        "stage",
        "residence",
        "records",
        "language",
        "contact",
        "channel",
        "channel_address",
        "transcript",
        "assignee",
        "notes",
        "created_at",
        "updated_at",
        "closed_at",
        "erased_at",
        "service_levels",
        "follow_up",
        "attachments",
    ]
    assert ticket["follow_up"] == {"state": None, "sent": 0, "flagged_at": None}
    assert ticket["attachments"] == []
    assert (ticket["closed_at"], ticket["erased_at"]) == (None, None)
    assert list(ticket["contact"]) == ["name", "phone", "email", "preferred_time"]
    created_at = datetime.fromisoformat(ticket["created_at"])
    assert created_at.utcoffset() is not None
    assert abs((datetime.now(UTC) - created_at).total_seconds()) < 60
    assert datetime.fromisoformat(ticket["updated_at"]) >= created_at


async def test_minimal_ticket_gets_defaults(client: Client, auth_headers: dict[str, str]) -> None:
    body = {
        "language": "fr",
        "contact": {"phone": "0470123456"},
        "channel": "webchat",
        "channel_address": "session-abc",
    }
    response = await client.post(TICKETS, json=body, headers=auth_headers)
    assert response.status == 201, await response.text()
    ticket = await response.json()
    assert ticket["kind"] == "request"
    assert ticket["records"] == {}
    assert ticket["transcript"] == []
    assert ticket["cancer_type"] is None
    assert ticket["contact"] == {
        "name": None,
        "phone": "0470123456",
        "email": None,
        "preferred_time": None,
    }


async def test_reference_is_year_and_padded_id(
    client: Client, auth_headers: dict[str, str]
) -> None:
    first = await create(client, auth_headers)
    second = await create(client, auth_headers, kind="callback")
    year = datetime.fromisoformat(first["created_at"]).year
    assert re.fullmatch(rf"SO-{year}-\d{{5}}", first["reference"])
    first_id = int(first["reference"].rsplit("-", 1)[1])
    assert second["reference"] == f"SO-{year}-{first_id + 1:05d}"


async def test_list_filters_by_status_and_paginates(
    client: Client, auth_headers: dict[str, str]
) -> None:
    references = [(await create(client, auth_headers))["reference"] for _ in range(5)]
    newest_first = references[::-1]

    page = await (await client.get(TICKETS, params={"limit": 2}, headers=auth_headers)).json()
    assert [item["reference"] for item in page["items"]] == newest_first[:2]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 0)

    params = {"limit": "2", "offset": "4"}
    page = await (await client.get(TICKETS, params=params, headers=auth_headers)).json()
    assert [item["reference"] for item in page["items"]] == newest_first[4:]
    assert page["total"] == 5

    params = {"status": "new"}
    page = await (await client.get(TICKETS, params=params, headers=auth_headers)).json()
    assert page["total"] == 5
    params = {"status": "closed"}
    page = await (await client.get(TICKETS, params=params, headers=auth_headers)).json()
    assert page == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_same_idempotency_key_gives_same_ticket(
    client: Client, auth_headers: dict[str, str]
) -> None:
    headers = {**auth_headers, "Idempotency-Key": "handoff-42"}
    first = await client.post(TICKETS, json=ticket_body(), headers=headers)
    again = await client.post(TICKETS, json=ticket_body(language="nl"), headers=headers)
    assert (first.status, again.status) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json()) == (await first.json())

    other = await client.post(
        TICKETS, json=ticket_body(), headers={**auth_headers, "Idempotency-Key": "handoff-43"}
    )
    assert other.status == 201
    page = await (await client.get(TICKETS, headers=auth_headers)).json()
    assert page["total"] == 2


async def test_concurrent_duplicates_create_one_ticket(
    client: Client, auth_headers: dict[str, str]
) -> None:
    headers = {**auth_headers, "Idempotency-Key": "double-tap"}
    responses = await asyncio.gather(
        *(client.post(TICKETS, json=ticket_body(), headers=headers) for _ in range(10))
    )
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 9 + [201]
    references = {(await response.json())["reference"] for response in responses}
    assert len(references) == 1
    page = await (await client.get(TICKETS, headers=auth_headers)).json()
    assert page["total"] == 1
    assert page["items"][0]["reference"] in references


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
async def test_bad_idempotency_key_is_400(
    client: Client, auth_headers: dict[str, str], key: str
) -> None:
    headers = {**auth_headers, "Idempotency-Key": key}
    response = await client.post(TICKETS, json=ticket_body(), headers=headers)
    assert response.status == 400
    assert (await error_of(response))["code"] == "invalid_idempotency_key"


async def test_malformed_json_is_400(client: Client, auth_headers: dict[str, str]) -> None:
    headers = {**auth_headers, "Content-Type": "application/json"}
    response = await client.post(TICKETS, data='{"language": "en",', headers=headers)
    assert response.status == 400
    error = await error_of(response)
    assert error["code"] == "invalid_json"
    assert "not valid JSON" in error["message"]
    assert "line 1" in error["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "invalid_json"),
        (b"\xff\xfe\xfa", 400, "invalid_json"),
        (b"[" * 100_000, 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_body"),
        (b'"text"', 400, "invalid_body"),
        (b"null", 400, "invalid_body"),
    ],
    ids=["empty", "not-utf8", "deeply-nested", "array", "string", "null"],
)
async def test_body_that_is_not_an_object_is_400(
    client: Client, auth_headers: dict[str, str], body: bytes, status: int, code: str
) -> None:
    headers = {**auth_headers, "Content-Type": "application/json"}
    response = await client.post(TICKETS, data=body, headers=headers)
    assert response.status == status
    error = await error_of(response)
    assert error["code"] == code
    if code == "invalid_body":
        assert "must be a JSON object" in error["message"]


async def test_wrong_content_type_is_415(client: Client, auth_headers: dict[str, str]) -> None:
    headers = {**auth_headers, "Content-Type": "text/plain"}
    response = await client.post(TICKETS, data="{}", headers=headers)
    assert response.status == 415
    assert (await error_of(response))["code"] == "unsupported_media_type"


async def test_missing_fields_are_named(client: Client, auth_headers: dict[str, str]) -> None:
    body = ticket_body()
    del body["channel"], body["language"]
    body["contact"] = {"name": "Ada"}
    response = await client.post(TICKETS, json=body, headers=auth_headers)
    assert response.status == 422
    error = await error_of(response)
    assert error["code"] == "validation_error"
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"channel", "language", "contact.phone"}
    assert all(detail["type"] == "missing" for detail in error["details"])
    for field in fields:
        assert field in error["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"contact": {"phone": "0470", "fax": "1"}}, "contact.fax"),
        ({"channel": "sms"}, "channel"),
        ({"kind": "complaint"}, "kind"),
        ({"language": "english"}, "language"),
        ({"stage": "unknown"}, "stage"),
        ({"residence": "mars"}, "residence"),
        ({"records": {"reports": "lost"}}, "records.reports"),
        ({"contact": {"phone": "call me"}}, "contact.phone"),
        ({"contact": {"phone": "0470", "email": "nope"}}, "contact.email"),
        ({"channel_address": ""}, "channel_address"),
        ({"channel_address": 12345}, "channel_address"),
        ({"cancer_type": "x" * 201}, "cancer_type"),
        ({"cancer_type": "bre\u0000ast"}, "cancer_type"),
        ({"transcript": [{"at": "2026-03-01T10:00:00", "sender": "bot", "text": "hi"}]}, None),
        ({"transcript": [{"at": "2026-03-01T10:00:00Z", "sender": "nurse", "text": "hi"}]}, None),
        ({"transcript": "hello"}, "transcript"),
    ],
)
async def test_invalid_fields_are_422(
    client: Client, auth_headers: dict[str, str], overrides: dict[str, Any], field: str | None
) -> None:
    response = await client.post(TICKETS, json=ticket_body(**overrides), headers=auth_headers)
    assert response.status == 422
    error = await error_of(response)
    assert error["code"] == "validation_error"
    fields = {detail["field"] for detail in error["details"]}
    if field is not None:
        assert field in fields
    else:
        assert all(name.startswith("transcript.0.") for name in fields)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"offset": str(10**30)},
        {"status": "lost"},
        {"colour": "red"},
    ],
)
async def test_bad_list_parameters_are_400(
    client: Client, auth_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get(TICKETS, params=params, headers=auth_headers)
    assert response.status == 400
    error = await error_of(response)
    assert error["code"] == "invalid_query"
    assert [detail["field"] for detail in error["details"]] == list(params)
    assert next(iter(params)) in error["message"]


async def test_repeated_list_parameter_is_400(client: Client, auth_headers: dict[str, str]) -> None:
    response = await client.get(f"{TICKETS}?limit=1&limit=2", headers=auth_headers)
    assert response.status == 400
    assert "limit" in (await error_of(response))["message"]


@pytest.mark.parametrize("reference", ["SO-2026-99999", "nonsense", "SO-2026-0%00001"])
async def test_unknown_reference_is_404(
    client: Client, auth_headers: dict[str, str], reference: str
) -> None:
    response = await client.get(f"{TICKETS}/{reference}", headers=auth_headers)
    assert response.status == 404
    assert (await error_of(response))["code"] == "ticket_not_found"


async def test_unknown_api_route_and_method_are_json(
    client: Client, auth_headers: dict[str, str]
) -> None:
    response = await client.get("/api/v1/nowhere", headers=auth_headers)
    assert response.status == 404
    assert (await error_of(response))["code"] == "not_found"

    response = await client.delete(TICKETS, headers=auth_headers)
    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    assert (await error_of(response))["code"] == "method_not_allowed"


async def test_oversized_body_is_413(client: Client, auth_headers: dict[str, str]) -> None:
    body = ticket_body(transcript=[{"at": "2026-03-01T10:00:00Z", "sender": "bot", "text": "x"}])
    body["transcript"] *= 50_000
    headers = {**auth_headers, "Content-Type": "application/json"}
    data = io.BytesIO(json.dumps(body).encode())
    response = await client.post(TICKETS, data=data, headers=headers)
    assert response.status == 413
    assert (await error_of(response))["code"] == "request_entity_too_large"


async def test_patient_details_stay_out_of_the_logs(
    client: Client, auth_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the level `python -m reception` runs at
    contact = {"name": "Zebedee Quill", "phone": "+32 499 99 88 77", "email": "zq@example.org"}
    ticket = await create(client, auth_headers, contact=contact)
    await client.get(f"{TICKETS}/{ticket['reference']}", headers=auth_headers)
    await client.get(TICKETS, headers=auth_headers)
    for secret in [*contact.values(), "Hello", "123456789"]:
        assert secret not in caplog.text

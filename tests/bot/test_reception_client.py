"""The bot's reception client, against a real HTTP server standing in for reception."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.reception_client import (
    Attachment,
    ReceptionClient,
    ReceptionRefused,
    ReceptionUnavailable,
)
from harness.stack import free_port

TOKEN = "client-test-token"


class FakeReception:
    """Answers every call with what the test sets, and records what it received."""

    def __init__(self) -> None:
        """Start with a 201 describing a file."""
        self.status = 201
        self.body: Any = {
            "reference": "SO-2026-00042",
            "language": "nl",
            "attachment": {"id": "a-1", "label": "imaging", "label_guessed": True, "scan": "clean"},
        }
        self.received: list[dict[str, Any]] = []

    async def answer(self, request: web.Request) -> web.Response:
        """Record the call and give the prepared answer."""
        self.received.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        if isinstance(self.body, bytes):
            return web.Response(body=self.body, status=self.status)
        return web.json_response(self.body, status=self.status)


@pytest.fixture
async def reception() -> AsyncIterator[tuple[FakeReception, ReceptionClient]]:
    """A fake reception on loopback, and a client of it."""
    fake = FakeReception()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, ReceptionClient(str(server.make_url("")).rstrip("/"), TOKEN)
    await server.close()


async def test_a_file_is_posted_as_raw_bytes_with_the_token(
    reception: tuple[FakeReception, ReceptionClient],
) -> None:
    fake, client = reception
    attachment = await client.attach("telegram", "42", b"%PDF-1.4 bytes", "telegram:42:file-1")
    assert attachment == Attachment("a-1", "imaging", True, "clean", "nl")
    [call] = fake.received
    assert (call["method"], call["path"], call["body"]) == (
        "POST",
        "/api/v1/attachments",
        b"%PDF-1.4 bytes",
    )
    assert call["query"] == {"channel": "telegram", "channel_address": "42"}
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["Content-Type"] == "application/octet-stream"
    assert call["headers"]["Content-Length"] == str(len(b"%PDF-1.4 bytes"))


async def test_a_label_and_a_link(reception: tuple[FakeReception, ReceptionClient]) -> None:
    fake, client = reception
    fake.status = 200
    fake.body = {"attachment": {"id": "a-1", "label": "blood", "label_guessed": False}}
    relabelled = await client.relabel("telegram", "42", "a-1", "blood")
    assert (relabelled.label, relabelled.label_guessed, relabelled.language) == (
        "blood",
        False,
        None,
    )
    assert fake.received[-1]["path"] == "/api/v1/attachments/a-1"
    assert fake.received[-1]["body"] == b'{"label": "blood"}'
    fake.status = 201
    fake.body = {"token": "tok", "expires_at": "2026-12-11T00:00:00Z", "language": "fr"}
    link = await client.upload_link("telegram", "42")
    assert (link.token, link.language) == ("tok", "fr")


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "no_open_request"), (413, "file_too_large"), (415, "unsupported_type")],
)
async def test_refusals_carry_reception_s_code(
    reception: tuple[FakeReception, ReceptionClient], status: int, code: str
) -> None:
    fake, client = reception
    fake.status, fake.body = status, {"error": {"code": code, "message": "no"}}
    with pytest.raises(ReceptionRefused) as refused:
        await client.attach("telegram", "42", b"x", "telegram:42:file-2")
    assert (refused.value.status, refused.value.code) == (status, code)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"error": {"code": "unavailable", "message": "later"}}),
        (401, {"error": {"code": "unauthorized", "message": "token"}}),
        (404, b"<html>not our reception</html>"),
        (201, b"not json"),
        (201, {"attachment": {"label": "blood"}}),
    ],
)
async def test_what_retrying_may_fix_is_unavailable(
    reception: tuple[FakeReception, ReceptionClient], status: int, body: Any
) -> None:
    fake, client = reception
    fake.status, fake.body = status, body
    with pytest.raises(ReceptionUnavailable):
        await client.attach("telegram", "42", b"x", "telegram:42:file-2")


async def test_an_unreachable_reception_is_unavailable() -> None:
    client = ReceptionClient(f"http://127.0.0.1:{free_port()}", TOKEN)
    with pytest.raises(ReceptionUnavailable):
        await client.upload_link("telegram", "42")

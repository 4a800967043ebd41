"""A small reception for the bot's tests: the records API as notes/records-contract.md has it,
for the conversations with an open request, on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

RECEPTION_TOKEN = "records-test-reception-token"
MB = 1024 * 1024


def refused(status: int, code: str) -> web.Response:
    """Reception's JSON error."""
    return web.json_response({"error": {"code": code, "message": code}}, status=status)


@dataclass
class FakeReception:
    """Reception's records API as the contract has it, for conversations with an open request.

    `refusal` makes every file get that error; `scan` and `language` shape the answers.
    """

    open_requests: set[str] = field(default_factory=set)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    refusal: tuple[int, str] | None = None
    scan: str = "clean"
    language: str = "en"
    guess: str = "reports"
    links: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        """The routes of the contract the bot uses, under the service token."""
        app = web.Application(client_max_size=64 * MB, middlewares=[self.authorised])
        app.router.add_post("/api/v1/attachments", self.attach)
        app.router.add_patch("/api/v1/attachments/{id}", self.relabel)
        app.router.add_post("/api/v1/upload-links", self.upload_link)
        return app

    @web.middleware
    async def authorised(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Refuse a call without the service token; record the others."""
        if request.headers.get("Authorization") != f"Bearer {RECEPTION_TOKEN}":
            return refused(401, "unauthorized")
        call = {"method": request.method, "path": request.path, "query": dict(request.query)}
        self.calls.append(call)
        return await handler(request)

    async def attach(self, request: web.Request) -> web.Response:
        """POST /api/v1/attachments: keep the bytes and guess a label."""
        if request.content_length is None:
            return refused(411, "length_required")
        data = await request.read()
        self.calls[-1].update(
            data=data,
            content_type=request.content_type,
            key=request.headers.get("Idempotency-Key"),
        )
        address = request.query.get("channel_address", "")
        if address not in self.open_requests:
            return refused(404, "no_open_request")
        if self.refusal is not None:
            return refused(*self.refusal)
        attachment_id = str(uuid.uuid4())
        attachment: dict[str, Any] = {
            "id": attachment_id,
            "label": self.guess,
            "label_guessed": True,
            "content_type": "application/pdf",
            "size": len(data),
            "received_at": "2026-12-04T19:00:00Z",
            "scan": self.scan,
        }
        self.files[attachment_id] = {**attachment, "address": address, "data": data}
        body = {"reference": "SO-2026-00042", "language": self.language, "attachment": attachment}
        return web.json_response(body, status=201)

    async def relabel(self, request: web.Request) -> web.Response:
        """PATCH /api/v1/attachments/{id}: the patient's own label."""
        body = await request.json()
        kept = self.files.get(request.match_info["id"])
        if kept is None or kept["address"] != request.query.get("channel_address"):
            return refused(404, "no_such_attachment")
        kept.update(label=body["label"], label_guessed=False)
        attachment = {k: v for k, v in kept.items() if k not in ("address", "data")}
        return web.json_response({"attachment": attachment})

    async def upload_link(self, request: web.Request) -> web.Response:
        """POST /api/v1/upload-links: a new token for the conversation's open request."""
        body = await request.json()
        self.calls[-1]["body"] = body
        if body.get("channel_address") not in self.open_requests:
            return refused(404, "no_open_request")
        self.links.append(token := f"tok-{uuid.uuid4().hex}")
        answer = {
            "token": token,
            "expires_at": "2026-12-11T19:00:00Z",
            "reference": "SO-2026-00042",
            "language": self.language,
        }
        return web.json_response(answer, status=201)

    def posted(self) -> list[dict[str, Any]]:
        """The files the bot posted, in order."""
        return [c for c in self.calls if c["path"] == "/api/v1/attachments"]


@asynccontextmanager
async def serving(fake: FakeReception) -> AsyncIterator[TestServer]:
    """Run the stand-in reception on loopback while the block runs."""
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()

"""A fake reception: the upload-link endpoints of the records contract, and nothing else.

It keeps links by token (live, expired or revoked), counts how often each is looked up, and
keeps the bytes of every file it is given, so tests can compare them with what was sent.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_TOKEN = "test-reception-token-for-uploads"
# A file reception refuses by its bytes, as it refuses an executable.
REFUSED_PREFIX = b"MZ"


@dataclass
class FakeLink:
    """One upload link as reception keeps it."""

    reference: str
    language: str = "en"
    state: str = "live"  # or "expired", "revoked"
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeReception:
    """Reception's upload-link API, with what it was sent."""

    links: dict[str, FakeLink] = field(default_factory=dict)
    files: dict[str, list[bytes]] = field(default_factory=dict)
    lookups: Counter[str] = field(default_factory=Counter)
    refusing_files: bool = False  # answer 503 to files, as a reception that is restarting
    attempts: int = 0

    def add_link(self, token: str, language: str = "en", state: str = "live") -> FakeLink:
        """Make a link for a new request."""
        link = FakeLink(f"SO-2026-{len(self.links) + 1:05d}", language, state)
        self.links[token] = link
        return link

    def app(self) -> web.Application:
        """The API as an aiohttp application."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/api/v1/upload-links/{token}", self.look_up)
        app.router.add_post("/api/v1/upload-links/{token}/attachments", self.attach)
        return app

    def _link(self, request: web.Request) -> FakeLink:
        """The link the path names, after the service token; the contract's errors otherwise."""
        if request.headers.get("Authorization") != f"Bearer {API_TOKEN}":
            raise _error(web.HTTPUnauthorized, "unauthorized")
        link = self.links.get(request.match_info["token"])
        if link is None:
            raise _error(web.HTTPNotFound, "unknown_link")
        if link.state != "live":
            raise _error(web.HTTPGone, f"link_{link.state}")
        return link

    async def look_up(self, request: web.Request) -> web.Response:
        """GET /api/v1/upload-links/{token}: the link, never used up by looking."""
        self.lookups[request.match_info["token"]] += 1
        link = self._link(request)
        return web.json_response(
            {
                "expires_at": "2026-12-11T10:00:00Z",
                "language": link.language,
                "reference": link.reference,
                "attachments": link.attachments,
            }
        )

    async def attach(self, request: web.Request) -> web.Response:
        """POST …/attachments: keep the raw bytes, or refuse them by what they are."""
        link = self._link(request)
        self.attempts += 1
        if self.refusing_files:
            raise _error(web.HTTPServiceUnavailable, "unavailable")
        if request.content_length is None:
            raise _error(web.HTTPLengthRequired, "length_required")
        body = await request.read()
        if body.startswith(REFUSED_PREFIX):
            raise _error(web.HTTPUnsupportedMediaType, "unsupported_type")
        label = request.query.get("label")
        attachment = {
            "id": str(uuid.uuid4()),
            "label": label or "other",
            "label_guessed": label is None,
            "content_type": "application/pdf",
            "size": len(body),
            "received_at": "2026-12-04T10:00:00Z",
            "scan": "clean",
        }
        link.attachments.append(attachment)
        self.files.setdefault(request.match_info["token"], []).append(body)
        return web.json_response(
            {"reference": link.reference, "language": link.language, "attachment": attachment},
            status=201,
        )


def _error(status: type[web.HTTPException], code: str) -> web.HTTPException:
    """A JSON error the way reception's API words them."""
    return status(
        text=web.json_response({"error": {"code": code, "message": code}}).text,
        content_type="application/json",
    )

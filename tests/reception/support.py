"""Helpers for the reception tests: ticket bodies, a stand-in bot, and a staff member's browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from deliveries import DELIVERIES_PATH
from reception import accounts
from reception.app import create_app
from reception.appkeys import SESSIONMAKER_KEY
from reception.models import StaffRole
from reception.settings import Settings

TICKETS = "/api/v1/tickets"
# A Thursday at 10:00 in Brussels, far from any Belgian holiday: the service-level clocks run.
A_WORKING_MORNING = datetime(2027, 1, 14, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

Client = TestClient[web.Request, web.Application]


def ticket_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid ticket request, with some fields replaced."""
    body: dict[str, Any] = {
        "kind": "request",
        "cancer_type": "breast",
        "department": "breast_clinic",
        "stage": "just_diagnosed",
        "residence": "belgium",
        "records": {"reports": "have", "imaging": "requested", "pathology": "not_yet"},
        "language": "en",
        "contact": {
            "name": "Ada Example",
            "phone": "+32 470 12 34 56",
            "email": "ada@example.org",
            "preferred_time": "mornings",
        },
        "channel": "telegram",
        "channel_address": "123456789",
        "transcript": [
            {"at": "2026-03-01T10:00:00+01:00", "sender": "patient", "text": "Hello"},
            {"at": "2026-03-01T09:00:05Z", "sender": "bot", "text": "Hi, how can I help?"},
        ],
    }
    body.update(overrides)
    return body


async def create_ticket(
    client: Client, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """Create a ticket through the API and return its JSON."""
    response = await client.post(TICKETS, json=ticket_body(**overrides), headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Client]:
    """Serve an app built by create_app with these settings, and yield its client."""
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def error_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """Return the error object of a JSON error response."""
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@dataclass
class FakeBot:
    """A stand-in for the bot's delivery endpoint that records what reception sends."""

    status: int = 202
    url: str = ""
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    server: TestServer | None = None

    async def start(self) -> str:
        """Serve the delivery endpoint on a free port and return its base URL."""
        app = web.Application()
        app.router.add_post(DELIVERIES_PATH, self._deliver)
        self.server = TestServer(app)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        """Stop serving."""
        if self.server is not None:
            await self.server.close()

    async def _deliver(self, request: web.Request) -> web.Response:
        """Record one delivery and answer with the configured status."""
        self.authorizations.append(request.headers.get("Authorization"))
        if self.status >= 300:
            error = {"code": "telegram_failed", "message": "Telegram did not accept it."}
            return web.json_response({"error": error}, status=self.status)
        key = request.headers.get("Idempotency-Key", "")
        if key in self.keys:  # the bot delivers a key once
            return web.json_response({"status": "queued"}, status=202)
        self.keys.append(key)
        self.deliveries.append(await request.json())
        return web.json_response({"status": "queued"}, status=202)


async def add_staff(
    client: Client,
    email: str,
    role: StaffRole = StaffRole.RECEPTION,
    password: str = PASSWORD,
    language: str = "en",
) -> int:
    """Create a staff account (reading reception in a language) and return its id."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        user = await accounts.create_user(session, email, password, role, language=language)
    return user.id


class StaffBrowser:
    """A staff member's browser: its own cookie jar, and the CSRF token of the last page."""

    def __init__(self, client: Client) -> None:
        """Browse the app that the test client serves."""
        self.client = client
        self.session = aiohttp.ClientSession(
            base_url=str(client.make_url("/")),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        self.csrf = ""

    async def close(self) -> None:
        """Close the browser."""
        await self.session.close()

    async def get(self, path: str, **kwargs: Any) -> tuple[aiohttp.ClientResponse, str]:
        """Fetch a page, remember its CSRF token, and return the response and its text."""
        response = await self.session.get(path, **kwargs)
        text = await response.text()
        if found := CSRF.search(text):
            self.csrf = found.group(1)
        return response, text

    async def post(
        self, path: str, data: dict[str, str], *, csrf: bool = True, **kwargs: Any
    ) -> tuple[aiohttp.ClientResponse, str]:
        """Post a form (with the remembered CSRF token unless told not to)."""
        form = {"csrf_token": self.csrf, **data} if csrf else data
        response = await self.session.post(path, data=form, allow_redirects=False, **kwargs)
        return response, await response.text()

    async def login(self, email: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        """Log in through the login form."""
        await self.get("/login")
        response, _ = await self.post("/login", {"email": email, "password": password})
        return response

    def cookie(self, name: str) -> str | None:
        """Return the value of one of the browser's cookies."""
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

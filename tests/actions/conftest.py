"""Trackers and a stand-in reception for testing actions with a real CollectingDispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa_sdk import Tracker

from actions import services
from deliveries import DELIVERIES_PATH

TOKEN = "actions-test-token"
# A request with every question answered (the patient skipped the e-mail address).
ANSWERED = {
    "cancer_type": "lung",
    "care_stage": "in_treatment",
    "residence": "belgium",
    "records_reports": "have",
    "records_imaging": "have",
    "records_pathology": "requested",
    "records_blood": "not_yet",
    "contact_name": "Jan Peeters",
    "phone": "+32470123456",
    "email": "skipped",
    "preferred_time": "after 2 pm",
}


def make_tracker(
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "telegram:555",
    form_active: bool = True,
) -> Tracker:
    """A tracker as the action server receives it from Rasa."""
    return Tracker(
        sender_id=sender_id,
        slots={"language": "en", **(slots or {})},
        latest_message={"text": "", "intent": {}, "entities": []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": "request_form"} if form_active else {},
        latest_action_name=None,
    )


@pytest.fixture(autouse=True)
def action_server_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment the action server refuses to start without."""
    monkeypatch.setenv("RECEPTION_API_TOKEN", TOKEN)
    services.settings.cache_clear()
    yield
    services.settings.cache_clear()


@pytest.fixture
def tracker() -> Callable[..., Tracker]:
    """Build trackers for a test."""
    return make_tracker


@dataclass
class FakeReception:
    """A real HTTP server that records ticket requests the way reception would receive them."""

    status: int = 201
    requests: list[dict[str, Any]] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: list[dict[str, Any]] = field(default_factory=list)
    list_queries: list[dict[str, str]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    upload_links: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[str] = field(default_factory=list)

    async def count_step(self, request: web.Request) -> web.Response:
        """Record a funnel step, as reception's anonymous counter would."""
        self.steps.append(await request.json())
        return web.json_response({"status": "counted"})

    async def count_topic(self, request: web.Request) -> web.Response:
        """Record a question answered from the FAQ, as reception's anonymous counter would."""
        self.topics.append(await request.json())
        return web.json_response({"status": "counted"})

    async def follow_up(self, request: web.Request) -> web.Response:
        """Record a patient's answer about reminders, as reception's endpoint would."""
        body = await request.json()
        if self.status != 201:
            return web.json_response({"error": {"code": "boom"}}, status=self.status)
        self.follow_ups.append(body)
        self.arrivals.append("follow_up")
        changed = [
            t["reference"]
            for t in self.tickets.values()
            if (t["channel"], t["channel_address"]) == (body["channel"], body["channel_address"])
        ]
        return web.json_response({"changed": changed})

    async def upload_link(self, request: web.Request) -> web.Response:
        """Make an upload link for the conversation's open request, as reception would."""
        body = await request.json()
        self.upload_links.append(body)
        if self.status != 201:
            return web.json_response({"error": {"code": "boom"}}, status=self.status)
        own = [
            t
            for t in self.tickets.values()
            if (t["channel"], t["channel_address"]) == (body["channel"], body["channel_address"])
        ]
        if not own:
            error = {"code": "no_open_request", "message": "no open request"}
            return web.json_response({"error": error}, status=404)
        token = f"tok-{len(self.upload_links)}_x"
        link = {"expires_at": "2027-01-08T10:00:00Z", "language": own[-1]["language"]}
        return web.json_response(
            {"token": token, "reference": own[-1]["reference"], **link}, status=201
        )

    async def erase(self, request: web.Request) -> web.Response:
        """Record an erasure, as reception's erasure endpoint would receive it."""
        body = await request.json()
        self.erasures.append(body)
        if self.status != 201:
            return web.json_response({"error": {"code": "boom"}}, status=self.status)
        self.arrivals.append("erasure")
        erased = [
            t["reference"]
            for t in self.tickets.values()
            if (t["channel"], t["channel_address"]) == (body["channel"], body["channel_address"])
        ]
        return web.json_response({"erased": erased})

    async def deliver(self, request: web.Request) -> web.Response:
        """Record a notice for a patient, as the bot's delivery endpoint would receive it."""
        self.notices.append(
            {"body": await request.json(), "key": request.headers.get("Idempotency-Key")}
        )
        return web.json_response({"status": "queued"}, status=202)

    async def report_gap(self, request: web.Request) -> web.Response:
        """Record a reported question, as reception's gap report would."""
        self.gaps.append(await request.json())
        return web.json_response({"status": "recorded"}, status=201)

    async def list(self, request: web.Request) -> web.Response:
        """Record the query and answer the prepared tickets."""
        self.list_queries.append(dict(request.query))
        return web.json_response({"items": self.listed, "total": len(self.listed)})

    async def create(self, request: web.Request) -> web.Response:
        """Record the request; answer the same ticket for the same idempotency key."""
        body = await request.json()
        key = request.headers.get("Idempotency-Key", "")
        self.requests.append({"headers": dict(request.headers), "body": body})
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": {"code": "unauthorized"}}, status=401)
        if self.status != 201:
            return web.json_response({"error": {"code": "boom"}}, status=self.status)
        self.arrivals.append("ticket")
        ticket = self.tickets.setdefault(
            key, {**body, "reference": f"SO-2026-{len(self.tickets) + 1:05d}"}
        )
        return web.json_response(ticket, status=201)


@pytest.fixture
async def reception(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[FakeReception]:
    """Point the actions at a recording reception (and bot), with the real courier running."""
    fake = FakeReception()
    app = web.Application()
    app.router.add_post("/api/v1/tickets", fake.create)
    app.router.add_get("/api/v1/tickets", fake.list)
    app.router.add_post("/api/v1/gaps", fake.report_gap)
    app.router.add_post("/api/v1/erasures", fake.erase)
    app.router.add_post("/api/v1/follow-ups", fake.follow_up)
    app.router.add_post("/api/v1/upload-links", fake.upload_link)
    app.router.add_post("/api/v1/funnel", fake.count_step)
    app.router.add_post("/api/v1/topics-asked", fake.count_topic)
    app.router.add_post(DELIVERIES_PATH, fake.deliver)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    monkeypatch.setenv("RECEPTION_URL", url)
    monkeypatch.setenv("BOT_URL", url)
    monkeypatch.setenv("RECEPTION_API_TOKEN", TOKEN)
    monkeypatch.setenv("ACTIONS_DATABASE_URL", f"sqlite:///{tmp_path / 'actions.db'}")
    monkeypatch.setenv("HANDOFF_WAIT_SECONDS", "2")
    for cached in (services.settings, services.reception):
        cached.cache_clear()
    await services.start_courier()
    yield fake
    await services.stop_courier()
    await server.close()
    for cached in (services.settings, services.reception):
        cached.cache_clear()

"""The OpenAPI document matches the routes, and Schemathesis finds no server error against it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from reception.app import create_app
from reception.openapi import build_document
from reception.settings import Settings, normalise_database_url
from tests.reception.conftest import API_TOKEN, SESSION_SECRET
from tests.reception.support import Client, FakeBot

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
schema = schemathesis.openapi.from_dict(build_document())


async def test_the_document_is_served_behind_the_token(
    client: Client, auth_headers: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/openapi.json")).status == 401
    response = await client.get("/api/v1/openapi.json", headers=auth_headers)
    assert response.status == 200
    assert await response.json() == build_document()


async def test_every_api_route_is_documented_and_nothing_else(client: Client) -> None:
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    documented = {
        (method, path) for path, item in build_document()["paths"].items() for method in item
    }
    assert served == documented


def test_the_documented_schemas_are_the_models_own() -> None:
    document = build_document()
    schemas = document["components"]["schemas"]
    assert document["openapi"] == "3.1.0"
    create = schemas["TicketCreate"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"language", "contact", "channel", "channel_address"}
    assert create["else"]["properties"]["contact"]["required"] == ["phone"]
    assert schemas["TicketUpdate"]["minProperties"] == 1
    parameters = document["paths"]["/api/v1/tickets"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == [
        "status",
        "department",
        "assignee",
        "channel",
        "channel_address",
        "q",
        "overdue",
        "sort",
        "limit",
        "offset",
    ]


class LiveReception:
    """Reception and a fake bot, served from a background thread with its own event loop."""

    def __init__(self, database: Path) -> None:
        """Prepare to serve a fresh SQLite database."""
        self.database = database
        self.url = ""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.bot = FakeBot()

    def start(self) -> None:
        """Start the loop, the fake bot and reception."""
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=60)

    def stop(self) -> None:
        """Stop serving and end the loop."""
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _start(self) -> None:
        """Serve reception on a free port, pointed at the fake bot."""
        bot_url = await self.bot.start()
        settings = Settings(
            api_token=API_TOKEN,
            session_secret=SESSION_SECRET,
            database_url=normalise_database_url(f"sqlite:///{self.database}"),
            bot_url=bot_url,
        )
        self.runner = web.AppRunner(create_app(settings))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = site.name

    async def _stop(self) -> None:
        """Close reception and the fake bot."""
        if self.runner is not None:
            await self.runner.cleanup()
        await self.bot.close()


@pytest.fixture(scope="module")
def live_reception(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveReception]:
    """Yield reception built by create_app on SQLite, served in this process."""
    live = LiveReception(tmp_path_factory.mktemp("schemathesis") / "reception.db")
    live.start()
    yield live
    live.stop()


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_server_fail(
    case: schemathesis.Case, live_reception: LiveReception
) -> None:
    """Every operation answers valid input and junk without a 5xx, as its document says."""
    response = case.call_and_validate(
        base_url=live_reception.url, headers=AUTH, excluded_checks=[positive_data_acceptance]
    )
    accepts_valid_input(case, response)


def accepts_valid_input(case: schemathesis.Case, response: schemathesis.Response) -> None:
    """Check that schema-valid input is accepted, but for assignees and topics that do not exist.

    Whether an e-mail belongs to an active reception account, or a topic to the editors' content
    (which changes without a release), is not something a schema can say, so a valid-looking
    unknown one is a 422 'unknown_assignee' or 'unknown_topic'; any other 4xx than the
    documented 401/404/409 means the document promises more than the server accepts.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 413, 415) or (
        response.status_code == 422
        and response.json()["error"]["code"] not in ("unknown_assignee", "unknown_topic")
    ):
        pytest.fail(f"valid input refused: {response.status_code} {response.text}")

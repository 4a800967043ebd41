"""Messages to the patient: delivered through the bot, kept as queued while it is down, never
kept when it refuses them.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from reception.app import create_app
from reception.settings import Settings
from tests.reception.conftest import API_TOKEN
from tests.reception.support import TICKETS, Client, FakeBot, create_ticket, error_of


def messages_of(reference: str) -> str:
    """Return the messages path of a ticket."""
    return f"{TICKETS}/{reference}/messages"


async def test_message_is_delivered_then_added_to_the_transcript(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    ticket = await create_ticket(client, auth_headers, language="fr")
    response = await client.post(
        messages_of(ticket["reference"]),
        json={"text": "We booked you on Monday at 10:00."},
        headers=auth_headers,
    )
    assert response.status == 201, await response.text()
    entry = await response.json()
    assert (entry["sender"], entry["text"]) == ("staff", "We booked you on Monday at 10:00.")

    assert fake_bot.deliveries == [
        {
            "channel": "telegram",
            "address": "123456789",
            "text": "We booked you on Monday at 10:00.",
            "reference": ticket["reference"],
            "language": "fr",
            "sender": "staff",
        }
    ]
    assert fake_bot.authorizations == [f"Bearer {API_TOKEN}"]
    stored = await (
        await client.get(f"{TICKETS}/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert stored["transcript"][:-1] == ticket["transcript"]
    assert stored["transcript"][-1] == entry


async def test_webchat_ticket_is_delivered_to_its_session(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    ticket = await create_ticket(
        client, auth_headers, channel="webchat", channel_address="session-0123456789"
    )
    response = await client.post(
        messages_of(ticket["reference"]), json={"text": "Hello"}, headers=auth_headers
    )
    assert response.status == 201
    assert (fake_bot.deliveries[0]["channel"], fake_bot.deliveries[0]["address"]) == (
        "webchat",
        "session-0123456789",
    )


@pytest.mark.parametrize("status", [400, 409, 413, 422])
async def test_a_refused_delivery_is_502_and_not_in_the_transcript(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot, status: int
) -> None:
    fake_bot.status = status
    ticket = await create_ticket(client, auth_headers)
    response = await client.post(
        messages_of(ticket["reference"]), json={"text": "Hello"}, headers=auth_headers
    )
    assert response.status == 502
    error = await error_of(response)
    assert error["code"] == "delivery_failed"
    assert f"HTTP {status}" in error["message"]
    assert "not sent" in error["message"]
    assert "Telegram did not accept it." in error["message"]
    stored = await (
        await client.get(f"{TICKETS}/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert stored["transcript"] == ticket["transcript"]
    history = await client.get(f"{TICKETS}/{ticket['reference']}/history", headers=auth_headers)
    assert [event["action"] for event in (await history.json())["items"]] == ["created"]


def _closed_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def client_without_bot(settings: Settings) -> AsyncIterator[Client]:
    """Yield a client of an app whose bot is down."""
    down = dataclasses.replace(
        settings, bot_url=f"http://127.0.0.1:{_closed_port()}", bot_timeout_seconds=2
    )
    async with TestClient(TestServer(create_app(down))) as test_client:
        yield test_client


async def test_an_unreachable_bot_queues_the_message(
    client_without_bot: Client, auth_headers: dict[str, str]
) -> None:
    ticket = await create_ticket(client_without_bot, auth_headers)
    response = await client_without_bot.post(
        messages_of(ticket["reference"]), json={"text": "Hello"}, headers=auth_headers
    )
    assert response.status == 202, await response.text()
    entry = await response.json()
    assert (entry["text"], entry["delivery"]) == ("Hello", "queued")
    stored = await client_without_bot.get(f"{TICKETS}/{ticket['reference']}", headers=auth_headers)
    assert (await stored.json())["transcript"] == [*ticket["transcript"], entry]


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": "  "}, {"text": "x" * 3501}, {"text": "a\u0000b"}, {"txt": "hi"}],
    ids=["missing", "empty", "blank", "too-long", "nul", "misspelt"],
)
async def test_bad_messages_are_422_and_never_sent(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot, body: dict[str, str]
) -> None:
    ticket = await create_ticket(client, auth_headers)
    response = await client.post(messages_of(ticket["reference"]), json=body, headers=auth_headers)
    assert response.status == 422
    assert (await error_of(response))["code"] == "validation_error"
    assert fake_bot.authorizations == []

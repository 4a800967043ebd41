"""Staff messages wait in reception's outbox while the bot is down, and arrive once it is back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from outbox import Outbox
from reception.app import create_app
from reception.appkeys import ENGINE_KEY
from reception.settings import Settings
from reception.staff_messages import STAFF_QUEUE
from tests.reception.support import TICKETS, Client, FakeBot, StaffBrowser, create_ticket
from tests.waiting import until

HELLO = "We have your request and will call you tomorrow."


def messages_of(reference: str) -> str:
    """Return the messages path of a ticket."""
    return f"{TICKETS}/{reference}/messages"


async def transcript_of(client: Client, headers: dict[str, str], reference: str) -> list[Any]:
    """Return a ticket's transcript as the API shows it."""
    response = await client.get(f"{TICKETS}/{reference}", headers=headers)
    assert response.status == 200, await response.text()
    return list((await response.json())["transcript"])


async def staff_lines(client: Client, headers: dict[str, str], reference: str) -> list[Any]:
    """Return the staff lines of a ticket's transcript: (text, delivery)."""
    lines = await transcript_of(client, headers, reference)
    return [(line["text"], line["delivery"]) for line in lines if line["sender"] == "staff"]


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[Any]:
    """Start reception apps on the test database, one after another, and close them all."""
    clients: list[TestClient[Any, Any]] = []

    async def start(**changes: Any) -> Client:
        client: Client = TestClient(
            TestServer(create_app(dataclasses.replace(settings, **changes)))
        )
        await client.start_server()
        clients.append(client)
        return client

    try:
        yield start
    finally:
        for client in reversed(clients):
            await client.close()


async def test_a_message_the_bot_takes_at_once_is_delivered(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    ticket = await create_ticket(client, auth_headers)
    response = await client.post(
        messages_of(ticket["reference"]), json={"text": HELLO}, headers=auth_headers
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["delivery"] == "delivered"
    assert await staff_lines(client, auth_headers, ticket["reference"]) == [(HELLO, "delivered")]
    assert [key.startswith("staff:") for key in fake_bot.keys] == [True]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_message_waits_while_the_bot_fails_and_arrives_once_when_it_is_back(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot, status: int
) -> None:
    ticket = await create_ticket(client, auth_headers)
    reference = ticket["reference"]
    fake_bot.status = status
    response = await client.post(messages_of(reference), json={"text": HELLO}, headers=auth_headers)
    assert response.status == 202, await response.text()
    assert (await response.json())["delivery"] == "queued"
    assert await staff_lines(client, auth_headers, reference) == [(HELLO, "queued")]
    assert fake_bot.deliveries == []

    fake_bot.status = 202

    async def delivered() -> bool:
        return await staff_lines(client, auth_headers, reference) == [(HELLO, "delivered")]

    await until(delivered, timeout=30)
    assert [delivery["text"] for delivery in fake_bot.deliveries] == [HELLO]
    history = await client.get(f"{TICKETS}/{reference}/history", headers=auth_headers)
    actions = [event["action"] for event in (await history.json())["items"]]
    assert actions == ["created", "message_sent"]


async def test_a_message_queued_before_a_restart_is_delivered_once_after_it(
    serve: Any, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    fake_bot.status = 503
    first = await serve()
    ticket = await create_ticket(first, auth_headers)
    reference = ticket["reference"]
    response = await first.post(messages_of(reference), json={"text": HELLO}, headers=auth_headers)
    assert response.status == 202
    await first.close()

    fake_bot.status = 202
    second = await serve()

    async def delivered() -> bool:
        return await staff_lines(second, auth_headers, reference) == [(HELLO, "delivered")]

    await until(delivered, timeout=30)
    assert [delivery["text"] for delivery in fake_bot.deliveries] == [HELLO]
    assert len(set(fake_bot.keys)) == len(fake_bot.keys)


async def test_messages_of_one_ticket_arrive_in_the_order_staff_wrote_them(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    ticket = await create_ticket(client, auth_headers)
    reference = ticket["reference"]
    fake_bot.status = 503
    texts = [f"Message {number} of three." for number in (1, 2, 3)]
    for text in texts:
        response = await client.post(
            messages_of(reference), json={"text": text}, headers=auth_headers
        )
        assert response.status == 202
    fake_bot.status = 202

    async def all_delivered() -> bool:
        lines = await staff_lines(client, auth_headers, reference)
        return lines == [(text, "delivered") for text in texts]

    await until(all_delivered, timeout=60)
    assert [delivery["text"] for delivery in fake_bot.deliveries] == texts


async def test_an_erased_ticket_drops_its_queued_messages(
    client: Client, auth_headers: dict[str, str], fake_bot: FakeBot, settings: Settings
) -> None:
    ticket = await create_ticket(client, auth_headers)
    fake_bot.status = 503
    response = await client.post(
        messages_of(ticket["reference"]), json={"text": HELLO}, headers=auth_headers
    )
    assert response.status == 202
    erased = await client.post(
        "/api/v1/erasures",
        json={"channel": ticket["channel"], "channel_address": ticket["channel_address"]},
        headers=auth_headers,
    )
    assert erased.status == 200, await erased.text()
    outbox = Outbox(client.app[ENGINE_KEY], "test")
    assert await outbox.pending(STAFF_QUEUE) == []
    fake_bot.status = 202
    stored = await client.get(f"{TICKETS}/{ticket['reference']}", headers=auth_headers)
    assert (await stored.json())["transcript"] == []
    assert fake_bot.deliveries == []


async def test_the_ticket_page_shows_queued_then_delivered(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    ticket = await create_ticket(client, auth_headers)
    reference = ticket["reference"]
    fake_bot.status = 503
    await browser.get(f"/inbox/tickets/{reference}")
    response, _ = await browser.post(f"/inbox/tickets/{reference}/messages", {"text": HELLO})
    assert response.status == 303
    _, page = await browser.get(response.headers["Location"])
    assert "the message is queued" in page
    assert "Queued: the bot is not taking messages" in page
    fake_bot.status = 202

    async def delivered() -> bool:
        return await staff_lines(client, auth_headers, reference) == [(HELLO, "delivered")]

    await until(delivered, timeout=30)
    _, shown = await browser.get(f"/inbox/tickets/{reference}")
    assert "Queued: the bot" not in shown
    assert '<p class="delivery delivery-delivered">Delivered</p>' in shown

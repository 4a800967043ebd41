"""The Rasa client and the conversation, against a real HTTP server standing in for Rasa."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, Button, RasaClient, RasaUnavailable, Reply
from tests.stack import free_port


class FakeRasa:
    """Answers Rasa's REST webhook with whatever the test sets."""

    def __init__(self) -> None:
        """Start with an empty answer."""
        self.answer: Any = []
        self.status = 200
        self.received: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        """Record the message and return the prepared answer."""
        self.received.append(await request.json())
        return web.json_response(self.answer, status=self.status)


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    """A fake Rasa on loopback and its URL."""
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, fake.webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


async def test_replies_and_buttons_are_read(rasa: tuple[FakeRasa, str]) -> None:
    """Text and buttons come back as replies; empty messages are skipped."""
    fake, url = rasa
    fake.answer = [
        {"recipient_id": "telegram:1", "text": "Hello"},
        {
            "recipient_id": "telegram:1",
            "text": "Pick",
            "buttons": [{"title": "A", "payload": "/a"}],
        },
        {"recipient_id": "telegram:1", "image": "x.png"},
    ]
    async with aiohttp.ClientSession() as session:
        replies = await RasaClient(url, session).send("telegram:1", "hi")
    assert replies == [Reply("Hello"), Reply("Pick", (Button("A", "/a"),))]
    assert fake.received == [{"sender": "telegram:1", "message": "hi", "metadata": {}}]


@pytest.mark.parametrize(("status", "answer"), [(500, []), (200, {"not": "a list"})])
async def test_a_broken_answer_is_unavailable(
    rasa: tuple[FakeRasa, str], status: int, answer: Any
) -> None:
    """An error status or an unreadable body raises RasaUnavailable."""
    fake, url = rasa
    fake.status, fake.answer = status, answer
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RasaUnavailable):
            await RasaClient(url, session).send("webchat:abcdefgh", "hi")


async def test_rasa_down_gets_the_patient_a_clear_answer(content, safety) -> None:
    """With nothing listening, the conversation answers with the 'unavailable' message."""
    url = f"http://127.0.0.1:{free_port()}"
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(RasaClient(url, session, timeout_seconds=2), content, safety)
        replies = await conversation.respond("telegram:9", "hello", "en")
    assert replies == [Reply(content.text("service_unavailable", "en"))]
    assert content.reference("en")["reception"]["phone"] in replies[0].text

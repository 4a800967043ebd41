"""The Rasa client and the conversation, against a real HTTP server standing in for Rasa."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, Answer, Button, RasaClient, RasaUnavailable, Reply
from harness.stack import free_port


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
        answer = await RasaClient(url, session).send("telegram:1", "hi")
    assert answer == Answer([Reply("Hello"), Reply("Pick", (Button("A", "/a"),))])
    assert fake.received == [{"sender": "telegram:1", "message": "hi", "metadata": {}}]


async def test_a_reply_the_actions_mark_is_shown_without_link_previews(
    rasa: tuple[FakeRasa, str],
) -> None:
    """A text whose custom part turns previews off keeps its link from Telegram's crawler."""
    fake, url = rasa
    no_preview = {"reply": {"link_previews": False}}
    fake.answer = [
        {
            "recipient_id": "telegram:1",
            "text": "Your page: https://x/records/t",
            "custom": no_preview,
        },
        {"recipient_id": "telegram:1", "text": "See https://example.org", "custom": {"reply": {}}},
    ]
    async with aiohttp.ClientSession() as session:
        answer = await RasaClient(url, session).send("telegram:1", "/send_records")
    assert [reply.link_previews for reply in answer.replies] == [False, True]


async def test_the_message_id_and_a_redelivery_are_passed_on(rasa: tuple[FakeRasa, str]) -> None:
    """Rasa gets the bot's id of the message and whether it is sent again after a restart."""
    fake, url = rasa
    fake.answer = [{"recipient_id": "telegram:1", "text": "Hello"}]
    async with aiohttp.ClientSession() as session:
        await RasaClient(url, session).send("telegram:1", "hi", None, "tg-7", redelivered=True)
    assert fake.received[0]["message_id"] == "tg-7"
    assert fake.received[0]["redelivered"] is True


async def test_the_erasure_instruction_is_read_and_never_shown(
    rasa: tuple[FakeRasa, str], content, safety
) -> None:
    """The actions' custom message makes the conversation forget; the patient sees the text."""
    fake, url = rasa
    fake.answer = [
        {"recipient_id": "webchat:abcdefgh", "text": "Erased."},
        {"recipient_id": "webchat:abcdefgh", "custom": {"erase_conversation": True}},
    ]
    forgotten: list[str] = []

    async def forget(sender_id: str) -> None:
        forgotten.append(sender_id)

    async with aiohttp.ClientSession() as session:
        conversation = Conversation(RasaClient(url, session), content, safety, forget)
        replies = await conversation.respond("webchat:abcdefgh", "/confirm_erasure", "en")
    assert replies == [Reply("Erased.")]
    assert forgotten == ["webchat:abcdefgh"]


@pytest.mark.parametrize(
    ("status", "answer"), [(500, []), (200, {"not": "a list"}), (200, ["not an object"])]
)
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

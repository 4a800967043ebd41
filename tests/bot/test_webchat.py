"""The web chat's page and endpoints (bot/webchat.py, bot/webchat_records.py): the welcome,
messages, files and their label buttons, against a stand-in Rasa and reception on loopback.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import webchat, webchat_records
from bot.attachments import LABELS, LabelChoice
from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, RasaClient
from bot.reception_client import ReceptionClient
from bot.safety import SafetyFilter
from contentlib import ContentStore
from contentlib.markdown import to_web_html
from tests.bot.reception_fake import RECEPTION_TOKEN, FakeReception, serving
from tests.bot.test_records import pdf_document
from tests.bot.test_telegram_channel import FakeRasa

SESSION = "webchat-test-session-0001"
PUBLIC_URL = "https://assistant.example.org"

PageClient = TestClient[web.Request, web.Application]


@dataclass
class Chat:
    """The page's side of the test: the bot's endpoints, and what stands behind them."""

    client: PageClient
    rasa: FakeRasa
    reception: FakeReception
    content: ContentStore

    async def send_file(self, data: bytes, session: str = SESSION) -> tuple[int, dict[str, Any]]:
        """Post a file as the page does; the answer's status and JSON."""
        response = await self.client.post(
            webchat_records.FILES_PATH,
            params={"session_id": session, "language": "en"},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return response.status, await response.json()

    async def say(self, text: str) -> list[dict[str, Any]]:
        """Post a message (or a button's payload) as the page does; the replies."""
        response = await self.client.post(
            "/api/messages", json={"session_id": SESSION, "text": text, "language": "en"}
        )
        assert response.status == 200, await response.text()
        return list((await response.json())["replies"])

    def seen(self, key: str, **variables: Any) -> str:
        """What the page shows for a content key."""
        return to_web_html(self.content.text(key, "en", **variables))

    def label(self, label: str) -> str:
        """A label's name, as its button shows it."""
        if label == "other":
            return str(self.content.text("records_label_other", "en"))
        return str(self.content.text(f"records.{label}.name", "en"))


@pytest.fixture
async def chat(content: ContentStore, safety: SafetyFilter) -> AsyncIterator[Chat]:
    """The web chat's routes, with a Rasa and a reception (an open request for SESSION)."""
    rasa = FakeRasa()
    rasa_app = web.Application()
    rasa_app.router.add_post(WEBHOOK_PATH, rasa.webhook)
    reception = FakeReception(open_requests={SESSION})
    async with (
        serving(reception) as reception_server,
        TestClient(TestServer(rasa_app, host="127.0.0.1")) as rasa_client,
        aiohttp.ClientSession() as session,
    ):
        app = web.Application()
        app[webchat.content_key] = content
        rasa_url = str(rasa_client.make_url("")).rstrip("/")
        app[webchat.conversation_key] = Conversation(RasaClient(rasa_url, session), content, safety)
        client = ReceptionClient(str(reception_server.make_url("")).rstrip("/"), RECEPTION_TOKEN)
        app[webchat.attachments_key] = webchat_records.attachments_for(client, content, PUBLIC_URL)
        webchat.add_routes(app)
        webchat_records.add_routes(app)
        async with TestClient(TestServer(app, host="127.0.0.1")) as page:
            yield Chat(page, rasa, reception, content)


async def test_a_pdf_reaches_reception_with_its_bytes_and_gets_a_receipt_with_label_buttons(
    chat: Chat,
) -> None:
    pdf = pdf_document()
    status, answer = await chat.send_file(pdf)
    assert status == 200
    [posted] = chat.reception.posted()
    assert posted["data"] == pdf
    assert posted["content_type"] == "application/octet-stream"
    assert posted["query"] == {"channel": "webchat", "channel_address": SESSION}
    assert posted["key"] == f"webchat:{SESSION}:{hashlib.sha256(pdf).hexdigest()}"
    [receipt] = answer["replies"]
    assert receipt["html"] == chat.seen("records_received_guess", label=chat.label("reports"))
    [attachment_id] = chat.reception.files
    assert receipt["buttons"] == [
        {
            "title": chat.content.text("records_label_confirm", "en"),
            "payload": LabelChoice(attachment_id, "reports").payload,
        },
        *(
            {"title": chat.label(label), "payload": LabelChoice(attachment_id, label).payload}
            for label in LABELS
            if label != "reports"
        ),
    ]
    assert chat.rasa.received == []  # Rasa never hears of it


async def test_the_same_file_sent_twice_carries_the_same_key(chat: Chat) -> None:
    await chat.send_file(pdf_document())
    await chat.send_file(pdf_document())
    first, second = chat.reception.posted()
    assert first["key"] == second["key"]


async def test_a_tap_on_a_label_button_changes_the_label_without_asking_rasa(chat: Chat) -> None:
    _, answer = await chat.send_file(pdf_document())
    [receipt] = answer["replies"]
    tapped = next(b for b in receipt["buttons"] if b["title"] == chat.label("blood"))
    [confirmed] = await chat.say(tapped["payload"])
    assert confirmed == {
        "html": chat.seen("records_label_set", label=chat.label("blood")),
        "buttons": [],
    }
    [kept] = chat.reception.files.values()
    assert (kept["label"], kept["label_guessed"]) == ("blood", False)
    assert chat.rasa.received == []


async def test_a_label_of_a_file_that_is_not_the_session_s_is_explained(chat: Chat) -> None:
    [answer] = await chat.say(LabelChoice("0f6a2c1e-aaaa-bbbb-cccc-123456789abc", "blood").payload)
    assert answer["html"] == chat.seen("records_label_gone")
    assert chat.rasa.received == []


async def test_typed_text_that_starts_like_a_label_still_goes_to_rasa(chat: Chat) -> None:
    await chat.say("label: my blood test:blood")
    assert [m["message"] for m in chat.rasa.received] == ["label: my blood test:blood"]


async def test_a_file_without_content_length_is_411(chat: Chat) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield pdf_document()

    response = await chat.client.post(
        webchat_records.FILES_PATH, params={"session_id": SESSION}, data=chunks()
    )
    assert response.status == 411
    assert (await response.json())["error"]["code"] == "length_required"
    assert chat.reception.calls == []


async def test_a_file_over_the_limit_is_refused_before_it_is_read_with_the_upload_link(
    chat: Chat,
) -> None:
    """The bot answers with only a few bytes of the body sent: it never waits for the rest."""
    assert chat.client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", chat.client.server.port)
    head = (
        f"POST {webchat_records.FILES_PATH}?session_id={SESSION} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {webchat.FILE_LIMIT + 1}\r\n\r\n"
    )
    writer.write(head.encode() + b"%PDF-1.4\n")
    await writer.drain()
    try:
        status_line, _, rest = (
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        ).partition(b"\r\n")
        headers = dict(
            line.split(": ", 1) for line in rest.decode().strip().split("\r\n") if ": " in line
        )
        body = await asyncio.wait_for(reader.readexactly(int(headers["Content-Length"])), 10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"413"
    [token] = chat.reception.links
    link = f"{PUBLIC_URL}/records/{token}"
    [offer] = json.loads(body)["replies"]
    assert f'<a href="{link}"' in offer["html"]
    assert chat.reception.posted() == []


async def test_the_page_asks_for_the_link_of_a_file_it_knows_is_too_big(chat: Chat) -> None:
    response = await chat.client.post(
        webchat_records.UPLOAD_LINK_PATH, params={"session_id": SESSION, "language": "en"}
    )
    assert response.status == 200
    [token] = chat.reception.links
    [offer] = (await response.json())["replies"]
    link = f"{PUBLIC_URL}/records/{token}"
    assert offer["html"].startswith(
        to_web_html(chat.content.text("records_upload_link", "en", link=link))[:60]
    )
    assert f'<a href="{link}" rel="noopener noreferrer" target="_blank">' in offer["html"]


@pytest.mark.parametrize("session", ["", "short", "has spaces in it", "x" * 65, "../../etc"])
async def test_a_file_for_an_invalid_session_is_refused(chat: Chat, session: str) -> None:
    status, answer = await chat.send_file(pdf_document(), session=session)
    assert status == 422
    assert answer["error"]["code"] == "invalid_session"
    assert chat.reception.calls == []


async def test_without_an_open_request_the_web_chat_says_how_to_start_one(chat: Chat) -> None:
    chat.reception.open_requests.clear()
    status, answer = await chat.send_file(pdf_document())
    assert status == 200
    assert answer["replies"] == [{"html": chat.seen("webchat.records_no_request"), "buttons": []}]


async def test_a_type_reception_refuses_is_explained_in_the_web_chat_s_words(chat: Chat) -> None:
    chat.reception.refusal = (415, "unsupported_type")
    _, answer = await chat.send_file(b"MZ\x90\x00")
    [refusal] = answer["replies"]
    assert refusal["html"] == chat.seen("webchat.records_unsupported_type")


async def test_the_welcome_is_asked_once_per_session_under_one_message_id(chat: Chat) -> None:
    """Asked again (a reload), it carries the same id, marked as sent before: Rasa answers it
    from the conversation instead of greeting twice (rasa_extensions/channel.py).
    """
    for _ in range(2):
        response = await chat.client.post(
            "/api/welcome", json={"session_id": SESSION, "language": "fr"}
        )
        assert response.status == 200
        first, _ = (await response.json())["replies"]
        assert first["html"] == to_web_html("**Got** /greet")
    assert [
        (m["sender"], m["message"], m["message_id"], m["redelivered"], m["metadata"])
        for m in chat.rasa.received
    ] == [
        (
            f"webchat:{SESSION}",
            "/greet",
            webchat.WELCOME_ID,
            True,
            {"chat_type": "private", "language": "fr"},
        )
    ] * 2


async def test_the_welcome_needs_a_valid_session(chat: Chat) -> None:
    response = await chat.client.post("/api/welcome", json={"session_id": "no"})
    assert response.status == 422
    assert chat.rasa.received == []


async def test_the_page_offers_a_labelled_file_picker_under_a_strict_policy(chat: Chat) -> None:
    response = await chat.client.get("/", params={"lang": "nl"})
    page = await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<input id="file" class="visually-hidden" type="file" multiple>' in page
    attach = chat.content.text("webchat.attach", "nl")
    assert f'<label for="file" class="attach">{attach}</label>' in page
    assert f'data-file-limit="{webchat.FILE_LIMIT}"' in page
    assert chat.content.text("webchat.file_failed", "nl") in page

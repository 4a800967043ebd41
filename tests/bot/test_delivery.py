"""The bot's delivery endpoint (bot/delivery.py), and reception's bot client speaking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import delivery, webchat
from bot.rasa_client import Reply
from bot.telegram_channel import TelegramChannel
from contentlib import ContentStore
from deliveries import DeliveryButton, PatientMessage
from harness.stack import ROOT
from outbox import Outbox, create_engine, upgrade
from reception.bot_client import BotClient, DeliveryFailed

TOKEN = "shared-reception-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TELEGRAM = web.AppKey("test_telegram", TelegramChannel)
SESSION = "session-0123456789"

BotClientOfTest = TestClient[web.Request, web.Application]


class FakeTelegram:
    """Stands in for the running TelegramChannel: records what it was asked to queue."""

    def __init__(self) -> None:
        """Start with nothing queued."""
        self.sent: list[tuple[int, list[str]]] = []
        self.keys: list[str | None] = []
        self.buttons: list[list[tuple[str, str]]] = []

    async def deliver(self, chat_id: int, replies: Sequence[Reply], key: str | None = None) -> None:
        """Record the replies and their key."""
        self.sent.append((chat_id, [reply.text for reply in replies]))
        self.keys.append(key)
        self.buttons.append([(b.title, b.payload) for reply in replies for b in reply.buttons])


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    """The bot's outbox, on SQLite."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    yield Outbox(engine, "bot-test")
    await engine.dispose()


def bot_app(telegram: FakeTelegram | None, outbox: Outbox) -> web.Application:
    """Build a bot app with only the delivery routes, the real content and an outbox."""
    app = web.Application()
    app[webchat.content_key] = ContentStore(ROOT / "content")
    app[delivery.outbox_key] = outbox
    if telegram is not None:
        app[TELEGRAM] = telegram  # type: ignore[assignment]
    delivery.add_routes(app, TELEGRAM, TOKEN)
    return app


@pytest.fixture
def telegram() -> FakeTelegram:
    """A Telegram channel that records deliveries."""
    return FakeTelegram()


@pytest.fixture
async def bot(telegram: FakeTelegram, outbox: Outbox) -> AsyncIterator[BotClientOfTest]:
    """A client of the bot's delivery routes, Telegram on."""
    async with TestClient(TestServer(bot_app(telegram, outbox))) as client:
        yield client


def body(**overrides: Any) -> dict[str, Any]:
    """A valid delivery, with some fields replaced."""
    return {
        "channel": "telegram",
        "address": "70001",
        "text": "Your appointment is on Monday.",
        "reference": "SO-2026-00042",
        **overrides,
    }


def header(reference: str = "SO-2026-00042", language: str = "en") -> str:
    """The content line that introduces a staff message, in the patient's language."""
    return ContentStore(ROOT / "content").text("staff_message", language, reference=reference)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong", "basic"],
)
async def test_deliveries_need_the_token(
    bot: BotClientOfTest, telegram: FakeTelegram, headers: dict[str, str]
) -> None:
    response = await bot.post(delivery.DELIVERIES_PATH, json=body(), headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert telegram.sent == []


async def test_an_empty_token_is_never_accepted(
    bot: BotClientOfTest, telegram: FakeTelegram
) -> None:
    response = await bot.post(
        delivery.DELIVERIES_PATH, json=body(), headers={"Authorization": "Bearer "}
    )
    assert response.status == 401
    assert telegram.sent == []


async def test_telegram_delivery_prefixes_the_content_header(
    bot: BotClientOfTest, telegram: FakeTelegram
) -> None:
    """A staff message reaches a French-speaking patient under a French header."""
    response = await bot.post(
        delivery.DELIVERIES_PATH, json=body(language="fr", text="<b>Hi</b>"), headers=AUTH
    )
    assert response.status == 202
    assert await response.json() == {"status": "queued"}
    assert telegram.sent == [(70001, [f"{header(language='fr')}\n\n<b>Hi</b>"])]
    assert header(language="fr").startswith("Message de l'accueil concernant votre demande")


async def test_the_assistant_s_own_messages_come_without_the_staff_header(
    bot: BotClientOfTest, telegram: FakeTelegram
) -> None:
    """A notice from the action server is the assistant speaking: no 'message from reception'."""
    response = await bot.post(
        delivery.DELIVERIES_PATH,
        json=body(sender="assistant", text="Your request has arrived.", reference=None),
        headers={**AUTH, "Idempotency-Key": "notice:ticket:abc"},
    )
    assert response.status == 202
    assert telegram.sent == [(70001, ["Your request has arrived."])]
    assert telegram.keys == ["delivery:notice:ticket:abc"]
    staff_without_reference = body(reference=None)
    response = await bot.post(delivery.DELIVERIES_PATH, json=staff_without_reference, headers=AUTH)
    assert response.status == 422


async def test_a_delivery_can_carry_buttons_on_both_channels(
    bot: BotClientOfTest, telegram: FakeTelegram
) -> None:
    """A reminder's buttons reach Telegram as the message's keyboard, and the page as data."""
    url = str(bot.make_url("")).rstrip("/")
    buttons = (
        DeliveryButton("What is missing?", "/ask_status"),
        DeliveryButton("Stop the reminders", "/stop_reminders"),
    )
    async with aiohttp.ClientSession() as session:
        client = BotClient(url, TOKEN, session)
        for channel, address in (("telegram", "70001"), ("webchat", SESSION)):
            message = PatientMessage(
                channel, address, "A reminder", "SO-2026-00001", "en", "assistant", buttons
            )
            await client.deliver(message, idempotency_key=f"reminder:{channel}")
    assert telegram.sent == [(70001, ["A reminder"])]
    assert telegram.buttons == [
        [("What is missing?", "/ask_status"), ("Stop the reminders", "/stop_reminders")]
    ]
    response = await bot.get(delivery.MESSAGES_PATH, params={"session_id": SESSION})
    (message,) = (await response.json())["messages"]
    assert message["buttons"] == [
        {"title": "What is missing?", "payload": "/ask_status"},
        {"title": "Stop the reminders", "payload": "/stop_reminders"},
    ]


async def test_telegram_off_is_503(outbox: Outbox) -> None:
    async with TestClient(TestServer(bot_app(None, outbox))) as client:
        response = await client.post(delivery.DELIVERIES_PATH, json=body(), headers=AUTH)
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "telegram_off"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "sms"}, "channel"),
        ({"address": ""}, "address"),
        ({"text": ""}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"reference": "42"}, "reference"),
        ({"language": "english"}, "language"),
        ({"colour": "red"}, "colour"),
        ({"buttons": [{"title": "Stop", "payload": "not a payload"}]}, "buttons.0.payload"),
        ({"buttons": [{"title": "", "payload": "/stop_reminders"}]}, "buttons.0.title"),
        ({"buttons": [{"title": "Go", "payload": "/greet"}] * 5}, "buttons"),
    ],
)
async def test_bad_deliveries_are_422_and_say_why(
    bot: BotClientOfTest, telegram: FakeTelegram, overrides: dict[str, Any], field: str
) -> None:
    response = await bot.post(delivery.DELIVERIES_PATH, json=body(**overrides), headers=AUTH)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_delivery"
    assert f"{field}:" in error["message"]
    assert telegram.sent == []


@pytest.mark.parametrize(
    ("data", "status"),
    [("not json", 400), ("[1]", 400), (None, 422)],
    ids=["not-json", "array", "missing-fields"],
)
async def test_bodies_that_are_not_deliveries_are_4xx(
    bot: BotClientOfTest, data: str | None, status: int
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await bot.post(delivery.DELIVERIES_PATH, data=data or "{}", headers=headers)
    assert response.status == status
    assert (await response.json())["error"]["message"]


@pytest.mark.parametrize(
    ("channel", "address"),
    [("telegram", "@someone"), ("webchat", "short"), ("webchat", "a b c d e f")],
)
async def test_addresses_must_fit_their_channel(
    bot: BotClientOfTest, channel: str, address: str
) -> None:
    response = await bot.post(
        delivery.DELIVERIES_PATH, json=body(channel=channel, address=address), headers=AUTH
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "invalid_address"


async def test_webchat_messages_wait_for_the_page_to_collect_them(bot: BotClientOfTest) -> None:
    for text in ["First", "Second"]:
        response = await bot.post(
            delivery.DELIVERIES_PATH,
            json=body(channel="webchat", address=SESSION, text=text),
            headers=AUTH,
        )
        assert response.status == 202
    response = await bot.get(delivery.MESSAGES_PATH, params={"session_id": SESSION})
    messages = (await response.json())["messages"]
    assert [(m["sender"], m["text"], m["reference"]) for m in messages] == [
        ("staff", f"{header()}\n\nFirst", "SO-2026-00042"),
        ("staff", f"{header()}\n\nSecond", "SO-2026-00042"),
    ]
    again = await bot.get(delivery.MESSAGES_PATH, params={"session_id": SESSION})
    assert await again.json() == {"messages": []}
    other = await bot.get(delivery.MESSAGES_PATH, params={"session_id": "another-session-1"})
    assert await other.json() == {"messages": []}
    bad = await bot.get(delivery.MESSAGES_PATH, params={"session_id": "../../etc"})
    assert bad.status == 422


async def test_a_retried_webchat_delivery_is_kept_once(bot: BotClientOfTest) -> None:
    """The same Idempotency-Key twice leaves one message for the page."""
    for _ in range(2):
        response = await bot.post(
            delivery.DELIVERIES_PATH,
            json=body(channel="webchat", address=SESSION, text="Once"),
            headers={**AUTH, "Idempotency-Key": "message-1"},
        )
        assert response.status == 202
    response = await bot.get(delivery.MESSAGES_PATH, params={"session_id": SESSION})
    assert [m["text"] for m in (await response.json())["messages"]] == [f"{header()}\n\nOnce"]


async def test_webchat_messages_survive_a_restart_of_the_bot(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """A message queued for a page that has not polled yet is still there after a restart."""
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    for step in ("queue", "collect"):
        engine = create_engine(url)
        await upgrade(engine)
        app = bot_app(telegram, Outbox(engine, "bot-test"))
        async with TestClient(TestServer(app)) as client:
            if step == "queue":
                response = await client.post(
                    delivery.DELIVERIES_PATH,
                    json=body(channel="webchat", address=SESSION, text="Kept"),
                    headers=AUTH,
                )
                assert response.status == 202
            else:
                response = await client.get(delivery.MESSAGES_PATH, params={"session_id": SESSION})
                messages = (await response.json())["messages"]
                assert [m["text"] for m in messages] == [f"{header()}\n\nKept"]
        await engine.dispose()


async def test_reception_bot_client_speaks_the_same_contract(
    bot: BotClientOfTest, telegram: FakeTelegram
) -> None:
    url = str(bot.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = BotClient(url, TOKEN, session)
        message = PatientMessage("telegram", "70001", "Hi", "SO-2026-00001", "en", "staff")
        await client.deliver(message, idempotency_key="staff:1")
        assert telegram.sent == [(70001, [f"{header('SO-2026-00001')}\n\nHi"])]
        assert telegram.keys == ["delivery:staff:1"]  # the channel's outbox keeps a key once

        wrong = BotClient(url, "not-the-token", session)
        with pytest.raises(DeliveryFailed, match="HTTP 401"):
            await wrong.deliver(message, idempotency_key="staff:2")

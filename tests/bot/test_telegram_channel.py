"""The Telegram channel with its outbox, against its own Bot API emulator and a stand-in Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, RasaClient
from bot.safety import SAFE, Danger, SafetyFilter, SemanticDetector
from bot.settings import Settings
from bot.telegram_channel import TelegramChannel
from bot.telegram_intake import UPDATES_QUEUE
from bot.telegram_sending import MESSAGES_QUEUE
from contentlib import ContentStore
from conversation_id import ConversationId
from embeddings import SentenceEncoder
from harness.stack import ROOT
from harness.telegram_emulator import TelegramEmulator
from outbox import Outbox, create_engine, upgrade
from tests.waiting import until

TOKEN = "525252:channel-test-token"
CHAT_ID = 52_001


class FakeRasa:
    """Answers every message with two replies, and records what it received.

    Clearing `answering` holds every answer back until it is set again (a slow Rasa).
    """

    def __init__(self) -> None:
        """Start with nothing received, answering at once."""
        self.received: list[dict[str, Any]] = []
        self.answering = asyncio.Event()
        self.answering.set()

    async def webhook(self, request: web.Request) -> web.Response:
        """Record the message and answer it."""
        body = await request.json()
        self.received.append(body)
        await self.answering.wait()
        return web.json_response(
            [
                {"recipient_id": body["sender"], "text": f"**Got** {body['message']}"},
                {"recipient_id": body["sender"], "text": "Anything else?"},
            ]
        )


@pytest.fixture(scope="module")
def telegram() -> AsyncIterator[TelegramEmulator]:
    """A Bot API emulator of these tests' own (outages here touch nothing else)."""
    with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    """A stand-in Rasa on loopback, and its URL."""
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, fake.webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The outbox database of the test's bot (it survives the bot's restarts)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def start_channel(
    telegram: TelegramEmulator,
    rasa: tuple[FakeRasa, str],
    content: ContentStore,
    safety: SafetyFilter,
    database_url: str,
) -> AsyncIterator[Callable[..., Any]]:
    """Start a channel on the test's outbox; each call is a new process of the same bot."""
    telegram.clear_failures()
    started: list[tuple[TelegramChannel, Any, aiohttp.ClientSession]] = []
    settings = Settings(
        host="127.0.0.1",
        port=0,
        rasa_url=rasa[1],
        rasa_timeout_seconds=5,
        content_dir=Path(ROOT / "content"),
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.base_url,
        telegram_poll_timeout_seconds=1,
        reception_api_token="not-used-here",
        database_url=database_url,
        instance_name="bot-under-test",
    )

    async def start(with_safety: SafetyFilter = safety) -> TelegramChannel:
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        session = aiohttp.ClientSession()
        rasa_client = RasaClient(settings.rasa_url, session)
        conversation = Conversation(rasa_client, content, with_safety)
        channel = TelegramChannel(settings, conversation, Outbox(engine, settings.instance_name))
        await channel.start()
        started.append((channel, engine, session))
        return channel

    yield start
    for channel, engine, session in started:
        await channel.stop()
        await session.close()
        await engine.dispose()


def text_update(update_id: int, text: str, chat_id: int = CHAT_ID) -> dict[str, Any]:
    """A private text message as Telegram would deliver it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "text": text,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
        },
    }


async def test_the_same_update_is_processed_once(
    start_channel: Callable[..., Any], telegram: TelegramEmulator, rasa: tuple[FakeRasa, str]
) -> None:
    """Telegram may deliver an update twice: the patient is answered once."""
    channel = await start_channel()
    mark = telegram.mark()
    assert await channel.receive(text_update(900_001, "hello")) is True
    assert await channel.receive(text_update(900_001, "hello")) is False
    await channel.receive(text_update(900_002, "again"))
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 4)
    await asyncio.sleep(0.3)
    assert telegram.texts(CHAT_ID, after=mark) == [
        "<b>Got</b> hello",
        "Anything else?",
        "<b>Got</b> again",
        "Anything else?",
    ]
    assert [m["message"] for m in rasa[0].received] == ["hello", "again"]


async def test_emergency_words_never_reach_rasa(
    start_channel: Callable[..., Any],
    telegram: TelegramEmulator,
    rasa: tuple[FakeRasa, str],
) -> None:
    """The emergency answer comes from the bot itself, first, in Telegram's HTML."""
    channel = await start_channel()
    mark = telegram.mark()
    await channel.receive(text_update(900_010, "I can't breathe"))
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 2)
    assert "112" in telegram.texts(CHAT_ID, after=mark)[0]
    assert rasa[0].received == []


async def test_a_message_that_sounds_like_danger_gets_help_before_rasa_answers(
    start_channel: Callable[..., Any],
    telegram: TelegramEmulator,
    rasa: tuple[FakeRasa, str],
    safety: SafetyFilter,
) -> None:
    """The semantic layer's emergency numbers leave at once, however long Rasa takes."""
    encoder = SentenceEncoder()
    examples = {
        Danger.DISTRESS.value: [
            "I don't want to live any more",
            "I want to end it all",
            "there is no point in going on",
        ],
        Danger.MEDICAL.value: [
            "my husband collapsed and is not breathing",
            "crushing pain in my chest",
            "she is bleeding heavily and won't wake up",
        ],
        SAFE: [
            "how much does a second opinion cost",
            "where do I send my scans",
            "my cancer came back last spring",
        ],
    }
    semantic = SemanticDetector(encoder, {k: encoder.encode(v) for k, v in examples.items()})
    channel = await start_channel(SafetyFilter(safety.patterns, semantic))
    fake = rasa[0]
    fake.answering.clear()
    mark = telegram.mark()
    await channel.receive(text_update(900_020, "honestly I see no reason to keep on living"))
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) >= 1)
    [help_first] = telegram.texts(CHAT_ID, after=mark)
    assert "112" in help_first
    await until(lambda: len(fake.received) == 1)  # asked, and still thinking
    fake.answering.set()
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 3)
    assert telegram.texts(CHAT_ID, after=mark)[1:] == [
        "<b>Got</b> honestly I see no reason to keep on living",
        "Anything else?",
    ]


async def test_replies_wait_out_a_telegram_outage_in_order(
    start_channel: Callable[..., Any], telegram: TelegramEmulator
) -> None:
    """While Telegram is down the replies stay in the outbox; then they all arrive, in order."""
    channel = await start_channel()
    mark = telegram.mark()
    telegram.set_down()
    await channel.receive(text_update(900_020, "one"))
    await channel.receive(text_update(900_021, "two"))
    await until(lambda: len(telegram.calls("sendMessage")) > 0)
    await asyncio.sleep(1.0)
    assert telegram.texts(CHAT_ID, after=mark) == []
    assert len(await channel.outbox.pending(MESSAGES_QUEUE)) == 4
    telegram.set_down(False)
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 4, timeout=30)
    assert telegram.texts(CHAT_ID, after=mark) == [
        "<b>Got</b> one",
        "Anything else?",
        "<b>Got</b> two",
        "Anything else?",
    ]


async def test_retry_after_delays_that_chat_only(
    start_channel: Callable[..., Any], telegram: TelegramEmulator
) -> None:
    """Telegram's RetryAfter holds back the chat it concerns; another chat is answered."""
    channel = await start_channel()
    mark = telegram.mark()
    telegram.fail_next("sendMessage", times=1, error_code=429, retry_after=2)
    await channel.receive(text_update(900_030, "slow", chat_id=CHAT_ID))
    await until(lambda: telegram.calls("sendMessage"))
    await channel.receive(text_update(900_031, "fast", chat_id=CHAT_ID + 1))
    await until(lambda: len(telegram.texts(CHAT_ID + 1, after=mark)) == 2)
    assert telegram.texts(CHAT_ID, after=mark) == []
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 2)
    assert telegram.texts(CHAT_ID, after=mark) == ["<b>Got</b> slow", "Anything else?"]


async def test_a_patient_who_blocked_the_bot_holds_up_nobody(
    start_channel: Callable[..., Any], telegram: TelegramEmulator
) -> None:
    """A refusal for good (403) is given up at once; the outbox does not retry it forever."""
    channel = await start_channel()
    blocked = CHAT_ID + 2
    telegram.set_blocked(blocked)
    await channel.receive(text_update(900_040, "hi", chat_id=blocked))
    await until(lambda: len([c for c in telegram.calls("sendMessage") if c["error"]]) >= 2)
    pending = await channel.outbox.pending(MESSAGES_QUEUE, str(ConversationId.telegram(blocked)))
    assert pending == []


async def test_an_update_interrupted_by_a_crash_is_processed_after_the_restart(
    start_channel: Callable[..., Any],
    telegram: TelegramEmulator,
    rasa: tuple[FakeRasa, str],
    database_url: str,
) -> None:
    """An update stored but not finished when the bot died is processed by the next bot,
    which tells Rasa it may have seen it (so Rasa answers it once).
    """
    engine = create_engine(database_url)
    await upgrade(engine)
    dying = Outbox(engine, "bot-under-test")
    await dying.put(
        UPDATES_QUEUE,
        str(ConversationId.telegram(CHAT_ID)),
        text_update(900_050, "lost?"),
        "900050",
    )
    assert len(await dying.claim(UPDATES_QUEUE, 10)) == 1  # leased, then the process dies
    await engine.dispose()
    mark = telegram.mark()
    await start_channel()
    await until(lambda: len(telegram.texts(CHAT_ID, after=mark)) == 2)
    [received] = rasa[0].received
    assert received["message_id"] == "telegram-update-900050"
    assert received["redelivered"] is True


async def test_a_button_with_a_long_payload_works_after_a_restart(
    start_channel: Callable[..., Any], telegram: TelegramEmulator, rasa: tuple[FakeRasa, str]
) -> None:
    """Callback data over 64 bytes is kept in the outbox, not in the process's memory."""
    first = await start_channel()
    long_payload = '/inform_cancer_type{"cancer_type":"' + "x" * 60 + '"}'
    data = await first.payloads.encode(long_payload, str(ConversationId.telegram(CHAT_ID)))
    assert len(data.encode()) <= 64
    await first.stop()
    second = await start_channel()
    assert await second.payloads.decode(data) == long_payload
    assert await second.payloads.decode("k:never-sent") is None
    assert await second.payloads.decode("/greet") is None

"""The Telegram channel against the Bot API emulator and a stand-in Rasa, without the stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Update

from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, RasaClient
from bot.safety import SafetyFilter
from bot.settings import Settings
from bot.telegram_channel import TelegramChannel
from contentlib import ContentStore
from tests.conftest import TELEGRAM_TOKEN
from tests.stack import ROOT
from tests.telegram_emulator import TelegramEmulator

CHAT_ID = 52_001


@pytest.fixture
async def channel(
    telegram: TelegramEmulator, content: ContentStore, safety: SafetyFilter
) -> AsyncIterator[TelegramChannel]:
    """A Telegram channel whose Rasa answers every message with one reply."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": "**Got it**"}])

    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    settings = Settings(
        host="127.0.0.1",
        port=0,
        rasa_url=str(server.make_url("")).rstrip("/"),
        rasa_timeout_seconds=5,
        content_dir=Path(ROOT / "content"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_api_base_url=telegram.base_url,
        telegram_poll_timeout_seconds=1,
    )
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(RasaClient(settings.rasa_url, session), content, safety)
        telegram_channel = TelegramChannel(settings, conversation)
        await telegram_channel.application.initialize()
        yield telegram_channel
        await telegram_channel.application.shutdown()
    await server.close()


def text_update(update_id: int, text: str, bot: object) -> Update:
    """A private text message as Telegram would deliver it."""
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_700_000_000,
                "text": text,
                "chat": {"id": CHAT_ID, "type": "private"},
                "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Test"},
            },
        },
        bot,
    )


async def test_the_same_update_is_processed_once(
    channel: TelegramChannel, telegram: TelegramEmulator
) -> None:
    """Telegram may deliver an update twice (webhook retries): the patient is answered once."""
    mark = telegram.mark(CHAT_ID)
    update = text_update(900_001, "hello", channel.application.bot)
    await channel.application.process_update(update)
    await channel.application.process_update(update)
    await channel.application.process_update(text_update(900_002, "again", channel.application.bot))
    sent = telegram.sent(CHAT_ID, after=mark)
    assert [message["text"] for message in sent] == ["<b>Got it</b>", "<b>Got it</b>"]


async def test_emergency_words_never_reach_rasa(
    channel: TelegramChannel, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """The emergency answer comes from the bot itself, first, in Telegram's HTML."""
    mark = telegram.mark(CHAT_ID)
    await channel.application.process_update(
        text_update(900_010, "I can't breathe", channel.application.bot)
    )
    sent = telegram.sent(CHAT_ID, after=mark)
    assert "112" in sent[0]["text"]
    assert "Got it" not in " ".join(message["text"] for message in sent)

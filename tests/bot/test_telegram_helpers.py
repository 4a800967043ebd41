"""Telegram's limits: 64-byte callback data and 4096-character messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.buttons import CallbackPayloads
from bot.telegram_channel import file_url_for
from bot.telegram_sending import chunks
from outbox import Outbox, create_engine, upgrade


@pytest.fixture
async def payloads(tmp_path: Path) -> AsyncIterator[CallbackPayloads]:
    """Callback payloads kept in an outbox on SQLite."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    yield CallbackPayloads(Outbox(engine, "bot-test"), "123456:bot-token")
    await engine.dispose()


async def test_short_payloads_are_sent_signed(payloads: CallbackPayloads) -> None:
    """A payload that fits in 64 bytes travels as itself with a signature, and comes back."""
    payload = '/inform_residence{"residence":"belgium"}'
    data = await payloads.encode(payload, "telegram:1")
    assert data.startswith(payload + "|") and len(data.encode()) <= 64
    assert await payloads.decode(data) == payload


async def test_long_payloads_get_a_short_key_that_decodes_back(payloads: CallbackPayloads) -> None:
    """A payload over 64 bytes travels as a short key and comes back whole."""
    long_payload = '/inform_cancer_type{"cancer_type":"' + "x" * 80 + '"}'
    data = await payloads.encode(long_payload, "telegram:1")
    assert len(data.encode()) <= 64
    assert await payloads.decode(data) == long_payload
    assert await payloads.encode(long_payload, "telegram:1") == data


async def test_callback_data_the_bot_never_sent_is_refused(payloads: CallbackPayloads) -> None:
    """Unknown keys and non-payload data decode to None."""
    assert await payloads.decode("k:" + "0" * 32) is None
    assert await payloads.decode("drop table") is None
    assert await payloads.decode("/confirm_erasure") is None
    assert await payloads.decode("/confirm_erasure|AAAAAAAA") is None
    assert await payloads.decode(None) is None
    other_bot = CallbackPayloads(payloads.outbox, "654321:another-token")
    assert await other_bot.decode(await payloads.encode("/affirm", "telegram:1")) is None


def test_long_text_is_split_under_the_limit_at_line_breaks() -> None:
    """Every piece fits a Telegram message, and no text is lost."""
    paragraph = "word " * 150
    text = "\n\n".join([paragraph.strip()] * 12)
    pieces = chunks(text)
    assert len(pieces) > 1
    assert all(len(piece) <= 4096 for piece in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_file_url_follows_the_base_url() -> None:
    """The emulator's or Telegram's base URL gives the matching file URL."""
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:9999/bot") == "http://127.0.0.1:9999/file/bot"

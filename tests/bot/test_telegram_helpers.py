"""Telegram's limits: 64-byte callback data and 4096-character messages."""

from __future__ import annotations

from bot.buttons import CallbackPayloads
from bot.telegram_channel import chunks, file_url_for


def test_short_payloads_are_sent_as_they_are() -> None:
    """A payload that fits in 64 bytes is its own callback data."""
    payloads = CallbackPayloads()
    assert payloads.encode('/inform_residence{"residence":"belgium"}') == (
        '/inform_residence{"residence":"belgium"}'
    )


def test_long_payloads_get_a_short_key_that_decodes_back() -> None:
    """A payload over 64 bytes travels as a short key and comes back whole."""
    payloads = CallbackPayloads()
    long_payload = '/inform_cancer_type{"cancer_type":"' + "x" * 80 + '"}'
    data = payloads.encode(long_payload)
    assert len(data.encode()) <= 64
    assert payloads.decode(data) == long_payload


def test_callback_data_the_bot_never_sent_is_refused() -> None:
    """Unknown keys and non-payload data decode to None."""
    payloads = CallbackPayloads()
    assert payloads.decode("k:" + "0" * 32) is None
    assert payloads.decode("drop table") is None
    assert payloads.decode(None) is None


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

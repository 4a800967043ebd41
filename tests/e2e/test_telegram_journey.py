"""A patient asks for a second opinion on Telegram, through python-telegram-bot and the stack."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from contentlib import ContentStore
from tests.stack import Stack
from tests.telegram_emulator import TelegramEmulator

pytestmark = pytest.mark.e2e

CHAT_ID = 70001


def seen(content: ContentStore, key: str, **variables: str) -> str:
    """What the patient sees on Telegram for a content key (HTML-escaped text)."""
    return html.escape(content.text(key, "en", **variables), quote=False)


def say(telegram: TelegramEmulator, chat_id: int, text: str) -> list[dict]:
    """Type a message as the patient and return the bot's replies."""
    mark = telegram.mark(chat_id)
    telegram.send_text(chat_id, text)
    return telegram.wait_for_reply(chat_id, after=mark, timeout=60)


def tap(telegram: TelegramEmulator, chat_id: int, message: dict, title: str) -> list[dict]:
    """Tap the button with this title on a bot message and return the bot's replies."""
    data = dict(telegram.buttons(message))[title]
    mark = telegram.mark(chat_id)
    telegram.tap_button(chat_id, data)
    return telegram.wait_for_reply(chat_id, after=mark, timeout=60)


def test_patient_hands_a_breast_cancer_request_to_reception(
    stack: Stack, telegram: TelegramEmulator, reception_api: httpx.Client, content: ContentStore
) -> None:
    """Greeting, cancer type, a button, a phone number: one ticket with exactly those answers."""
    replies = say(telegram, CHAT_ID, "Hello")
    assert [r["text"] for r in replies] == [
        seen(content, "welcome"),
        seen(content, "ask_cancer_type"),
    ]
    titles = [title for title, _ in telegram.buttons(replies[-1])]
    assert content.text("cancer_types.breast", "en") in titles
    assert content.text("cancer_types.not_sure", "en") in titles
    assert all(len(data.encode()) <= 64 for _, data in telegram.buttons(replies[-1]))
    assert all(r["parse_mode"] == "HTML" for r in replies)

    replies = say(telegram, CHAT_ID, "I have breast cancer")
    assert [r["text"] for r in replies] == [seen(content, "ask_residence")]

    answered_before = len(telegram.answered_callbacks)
    replies = tap(telegram, CHAT_ID, replies[-1], content.text("residence.belgium", "en"))
    assert len(telegram.answered_callbacks) == answered_before + 1
    assert [r["text"] for r in replies] == [seen(content, "ask_phone")]

    replies = say(telegram, CHAT_ID, "0470 12 34 56")
    assert len(replies) == 1
    reference = re.search(r"SO-\d{4}-\d{5}", replies[0]["text"])
    assert reference, replies[0]["text"]
    assert "+32 470 12 34 56" in replies[0]["text"]

    tickets = [
        t
        for t in reception_api.get("/api/v1/tickets", params={"limit": 100}).json()["items"]
        if t["channel"] == "telegram" and t["channel_address"] == str(CHAT_ID)
    ]
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["reference"] == reference.group(0)
    assert ticket["cancer_type"] == "breast"
    assert ticket["department"] == "breast_clinic"
    assert ticket["residence"] == "belgium"
    assert ticket["contact"]["phone"] == "+32470123456"
    assert ticket["language"] == "en"
    patient_lines = [line["text"] for line in ticket["transcript"] if line["sender"] == "patient"]
    assert patient_lines == ["Hello", "I have breast cancer", "In Belgium", "0470 12 34 56"]


MEDIA = {
    "photo": [{"file_id": "photo-1", "file_unique_id": "u1", "width": 90, "height": 90}],
    "document": {"file_id": "doc-1", "file_unique_id": "u2", "file_name": "report.pdf"},
    "sticker": {
        "file_id": "st-1",
        "file_unique_id": "u3",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    },
    "voice": {"file_id": "voice-1", "file_unique_id": "u4", "duration": 3},
}


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_media_gets_a_polite_answer(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, kind: str
) -> None:
    """A photo, document, sticker or voice message is answered, never silently dropped."""
    chat_id = CHAT_ID + 1 + sorted(MEDIA).index(kind)
    mark = telegram.mark(chat_id)
    telegram.send_update(
        {
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
                kind: MEDIA[kind],
            }
        }
    )
    replies = telegram.wait_for_reply(chat_id, after=mark, timeout=30)
    assert [r["text"] for r in replies] == [seen(content, "unsupported_media")]

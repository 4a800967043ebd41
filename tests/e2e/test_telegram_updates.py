"""Every kind of Telegram update the bot can receive: a sensible answer, or ignored on purpose,
and never a crashed handler.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contentlib import ContentStore
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient

pytestmark = pytest.mark.e2e

_chats = itertools.count(74_001)
_message_ids = itertools.count(8_800_001)
FILE = {"file_id": "f1", "file_unique_id": "u1", "file_size": 10}
# Photos and documents are records, not media: tests/e2e/test_records.py sends them.
MEDIA: dict[str, Any] = {
    "voice": {**FILE, "duration": 3},
    "audio": {**FILE, "duration": 3},
    "video": {**FILE, "width": 10, "height": 10, "duration": 3},
    "video_note": {**FILE, "length": 10, "duration": 3},
    "animation": {**FILE, "width": 10, "height": 10, "duration": 3},
    "sticker": {
        **FILE,
        "type": "regular",
        "width": 10,
        "height": 10,
        "is_animated": False,
        "is_video": False,
    },
    "location": {"latitude": 50.85, "longitude": 4.35},
    "venue": {
        "location": {"latitude": 50.85, "longitude": 4.35},
        "title": "Hospital",
        "address": "Rue 1",
    },
    "contact": {"phone_number": "+32470000000", "first_name": "Someone"},
    "poll": {
        "id": "p1",
        "question": "?",
        "options": [
            {"text": "a", "voter_count": 0, "persistent_id": "o1"},
            {"text": "b", "voter_count": 0, "persistent_id": "o2"},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    },
    "dice": {"emoji": "🎲", "value": 3},
}
TEXTS = {
    "huge": "my question is " + "about the records and the costs " * 125,
    "emoji only": "😀🙏🏽❤️‍🩹",
    "right to left": "أريد رأيا طبيا ثانيا من فضلكم",
    "markup characters": "<b>hi</b> & <script>alert(1)</script> *bold* _x_ [a](http://x) `c` \\",
    "control characters": "hello\u0000\u200b\u202e\ufeff there",
}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    """A chat object."""
    if kind == "private":
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    return {"id": -chat_id, "type": kind, "title": "Some group"}


def message(chat_id: int, kind: str = "private", **fields: Any) -> dict[str, Any]:
    """A message object from the patient."""
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id, kind),
        "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "en"},
        **fields,
    }


def send(telegram: TelegramEmulator, update: dict[str, Any]) -> int:
    """Queue a raw update for the bot (the emulator numbers it, after every earlier one)."""
    return telegram.send_update(update)


@pytest.fixture(autouse=True)
def no_handler_crashes(stack: Stack) -> Iterator[None]:
    """After each test: nothing the bot logged meanwhile says a handler crashed."""
    start = len(stack.logs()["bot"])
    yield
    logged = stack.logs()["bot"][start:]
    assert "handler failed" not in logged
    assert "Traceback" not in logged


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_media_and_other_content_get_the_text_only_answer(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, kind: str
) -> None:
    """Voice, video, stickers, places, contacts, polls, dice: a polite answer."""
    chat_id = next(_chats)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
    mark = telegram.mark(chat_id)
    send(telegram, {"message": message(chat_id, **{kind: MEDIA[kind]})})
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("unsupported_media")]


def test_an_update_the_library_cannot_read_is_still_answered(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """A message in a shape python-telegram-bot refuses (here a poll of an older Bot API) gets
    the text-only answer rather than silence, and polling goes on.
    """
    chat_id = next(_chats)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
    old_poll = {"id": "p2", "question": "?", "options": [{"text": "a", "voter_count": 0}]}
    mark = telegram.mark(chat_id)
    send(telegram, {"message": message(chat_id, poll=old_poll)})
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("unsupported_media")]
    patient.consents()


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_odd_texts_get_an_answer_telegram_accepts(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, name: str
) -> None:
    """Huge, emoji-only, right-to-left, markup-laden or control-character text: a real answer
    (the emulator rejects malformed HTML, as Telegram does).
    """
    chat_id = next(_chats)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
    patient.consents()
    mark = telegram.mark(chat_id)
    send(telegram, {"message": message(chat_id, text=TEXTS[name])})
    replies = patient.replies(after=mark)
    assert replies and all(r["text"].strip() for r in replies)
    failed = [c for c in telegram.calls("sendMessage") if c["chat_id"] == chat_id and c["error"]]
    assert failed == []


def test_an_edited_message_and_an_unknown_command_are_answered(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """A correction is asked for as a new message; an unknown command gets the help."""
    chat_id = next(_chats)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
    patient.consents()
    mark = telegram.mark(chat_id)
    send(telegram, {"edited_message": {**message(chat_id, text="typo"), "edit_date": 1}})
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("edited_message")]
    patient.says("/frobnicate")
    assert patient.texts()[0] == patient.seen("help")


def test_a_button_the_bot_never_sent_is_answered_and_acknowledged(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """Forged callback data gets 'that button is no longer active', and the tap is answered."""
    chat_id = next(_chats)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
    patient.consents()
    mark = telegram.mark(chat_id)
    sent = telegram.sent(chat_id)[-1]
    forged = ("k:" + "f" * 32, "DROP TABLE tickets", "/restart", "/confirm_erasure|AAAAAAAA")
    for data in forged:
        telegram.tap_button(chat_id, data, message_id=sent["message_id"], allow_unknown=True)
    telegram.wait_for(None, chat_id, count=len(forged), after=mark, timeout=30)
    time.sleep(1)
    texts = telegram.texts(chat_id, after=mark)
    assert texts == [patient.seen("button_expired")] * len(forged)
    answered = [
        c
        for c in telegram.calls("answerCallbackQuery")
        if c["chat_id"] == chat_id and c["seq"] > mark and not c["error"]
    ]
    assert len(answered) == len(forged)


def test_updates_no_patient_waits_for_are_ignored_on_purpose(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """Group chatter, channel posts, membership changes, reactions, inline queries, poll answers,
    service messages and kinds Telegram adds later: no answer, no crash, and the bot goes on.
    """
    chat_id = next(_chats)
    user = {"id": chat_id, "is_bot": False, "first_name": "Test"}
    mark = telegram.mark()
    ignored = [
        {"message": message(chat_id, "group", text="hello everyone")},
        {"channel_post": {**message(chat_id, "channel", text="news")}},
        {
            "my_chat_member": {
                "chat": chat(chat_id),
                "from": user,
                "date": 1,
                "old_chat_member": {"status": "member", "user": user},
                "new_chat_member": {"status": "kicked", "user": user, "until_date": 0},
            }
        },
        {
            "message_reaction": {
                "chat": chat(chat_id),
                "message_id": 1,
                "date": 1,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        },
        {"inline_query": {"id": "q1", "from": user, "query": "cancer", "offset": ""}},
        {"poll_answer": {"poll_id": "p1", "user": user, "option_ids": [0]}},
        {
            "message": message(
                chat_id, pinned_message={"message_id": 1, "date": 0, "chat": chat(chat_id)}
            )
        },
        {"something_telegram_adds_later": {"id": 1}},
    ]
    for update in ignored:
        send(telegram, update)
    time.sleep(3)
    assert telegram.sent(chat_id, after=mark) == []
    assert telegram.sent(-chat_id, after=mark) == []
    Patient(telegram, content, chat_id, stack.bot_database).consents()

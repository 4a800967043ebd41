"""Outages of the real processes: reception, the action server, Rasa and the bot itself.

Each test stops or kills one process of the shared stack and starts it again before it ends,
so the tests after it find the stack whole.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator

import httpx
import pytest

from contentlib import ContentStore
from conversation_id import ConversationId
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient
from tests.e2e.stored import tickets_of

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"SO-\d{4}-\d{5}")


@pytest.fixture
def down(stack: Stack) -> Iterator[list[str]]:
    """Services a test takes down; each is started again when the test ends, whatever happens."""
    stopped: list[str] = []
    yield stopped
    for name in stopped:
        if stack.services[name].process is None or stack.services[name].process.poll() is not None:
            stack.start_service(name)


def test_a_request_sent_while_reception_is_down_arrives_once_later(
    stack: Stack,
    telegram: TelegramEmulator,
    content: ContentStore,
    reception_api: httpx.Client,
    down: list[str],
) -> None:
    """The patient is told it is saved; when reception is back the ticket arrives exactly once,
    and the patient gets its reference in the same chat.
    """
    patient = Patient(telegram, content, 71_001, stack.bot_database)
    patient.fills_request(name="Odile Martin", phone="0471 11 22 33")
    stack.stop_service("reception")
    down.append("reception")
    patient.taps_key("confirm.send")
    assert patient.texts()[0] == patient.seen("handoff_saved")
    patient.says("where is my request?")
    assert patient.texts() == [patient.seen("status_on_its_way")]
    mark = telegram.mark(patient.chat_id)
    stack.start_service("reception")
    [notice] = patient.replies(after=mark)
    reference = REFERENCE.search(notice["text"])
    assert reference, notice["text"]
    assert notice["text"] == patient.seen("handoff_arrived", reference=reference.group(0))
    time.sleep(2)
    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["reference"] == reference.group(0)
    assert ticket["contact"]["name"] == "Odile Martin"
    patient.says("where is my request?")
    assert reference.group(0) in patient.texts()[0]


def test_the_action_server_down_gets_a_clear_answer_and_the_conversation_goes_on(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, down: list[str]
) -> None:
    """Never silence: 'temporarily unavailable' with reception's number, then business as usual."""
    patient = Patient(telegram, content, 71_002, stack.bot_database)
    patient.consents()
    stack.stop_service("actions")
    down.append("actions")
    patient.says("why would I ask for a second opinion?")
    assert patient.texts() == [patient.seen("service_unavailable")]
    assert content.reference("en")["reception"]["phone"] in patient.texts()[0]
    stack.start_service("actions")
    patient.taps_key("menu.start")
    assert patient.texts() == [patient.seen("ask_cancer_type")]


def test_rasa_down_gets_a_clear_answer_and_the_conversation_goes_on(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, down: list[str]
) -> None:
    """With Rasa stopped the bot still answers; once Rasa is back the patient carries on."""
    patient = Patient(telegram, content, 71_003, stack.bot_database)
    patient.consents()
    patient.taps_key("menu.start")
    stack.stop_service("rasa")
    down.append("rasa")
    patient.says("lung cancer")
    assert patient.texts() == [patient.seen("service_unavailable")]
    stack.start_service("rasa", timeout=240)
    patient.says("lung cancer")
    assert patient.texts() == [patient.seen("ask_care_stage")]


def test_messages_sent_while_the_bot_is_dead_are_answered_after_it_restarts(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, down: list[str]
) -> None:
    """The bot is killed; Telegram keeps the patient's messages; the new bot answers each once."""
    patient = Patient(telegram, content, 71_004, stack.bot_database)
    patient.consents()
    stack.kill_service("bot")
    down.append("bot")
    mark = telegram.mark(patient.chat_id)
    telegram.send_text(patient.chat_id, "how does it work?")
    stack.start_service("bot")
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("how"), patient.seen("how_tips")]
    time.sleep(2)
    assert telegram.texts(patient.chat_id, after=mark) == [r["text"] for r in replies]


def test_an_update_the_bot_stored_but_did_not_finish_is_answered_once(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, down: list[str]
) -> None:
    """Killed after storing an update and telling Rasa, before sending the replies: the new bot
    sends what Rasa answered the first time, and Rasa does not take the message twice.
    """
    patient = Patient(telegram, content, 71_005, stack.bot_database)
    patient.consents()
    patient.taps_key("menu.start")
    stack.kill_service("bot")
    down.append("bot")
    lane = str(ConversationId.telegram(patient.chat_id))
    update = {
        "update_id": 9_900_001,
        "message": {
            "message_id": 9_900_001,
            "date": int(time.time()),
            "text": "lung cancer",
            "chat": {"id": patient.chat_id, "type": "private"},
            "from": {"id": patient.chat_id, "is_bot": False, "first_name": "Test"},
        },
    }
    first = httpx.post(
        f"{stack.url('rasa')}/webhooks/patient/webhook",
        json={"sender": lane, "message": "lung cancer", "message_id": "telegram-update-9900001"},
        timeout=60,
    )
    assert first.status_code == 200 and first.json(), first.text
    store_interrupted_update(stack, lane, update)
    mark = telegram.mark(patient.chat_id)
    stack.start_service("bot")
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("ask_care_stage")]
    patient.taps_key("care_stages.in_treatment")
    assert patient.texts() == [patient.seen("ask_residence")]


def store_interrupted_update(stack: Stack, lane: str, update: dict) -> None:
    """Leave an update in the bot's outbox as a killed bot would: claimed, never finished."""
    now = time.time()
    with sqlite3.connect(stack.bot_database) as db:
        db.execute(
            "INSERT INTO outbox_jobs (queue, lane, key, payload, attempts, created_at, "
            "available_at, locked_by, locked_until, failed) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 0)",
            (
                "telegram_updates",
                lane,
                str(update["update_id"]),
                json.dumps(update),
                now,
                now,
                stack.env()["BOT_INSTANCE_NAME"],
                now + 300,
            ),
        )


def test_a_staff_message_waits_out_a_telegram_outage_and_retry_after(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, reception_api: httpx.Client
) -> None:
    """Reception writes while Telegram is down, then while it asks to slow down: the patient
    gets the message once Telegram takes it, once, and it is in the ticket's transcript.
    """
    patient = Patient(telegram, content, 71_006, stack.bot_database)
    patient.fills_request(name="Hugo Peeters", phone="0477 10 20 30")
    patient.taps_key("confirm.send")
    [ticket] = tickets_of(reception_api, patient.chat_id)
    mark = telegram.mark(patient.chat_id)
    telegram.set_down()
    try:
        sent = reception_api.post(
            f"/api/v1/tickets/{ticket['reference']}/messages",
            json={"text": "We have your request; we will call you tomorrow."},
        )
        assert sent.status_code == 201, sent.text
        time.sleep(4)
        assert telegram.sent(patient.chat_id, after=mark) == []
        telegram.fail_next("sendMessage", times=2, error_code=429, retry_after=2)
    finally:
        telegram.set_down(False)
    [message] = patient.replies(after=mark)
    assert "we will call you tomorrow" in message["text"]
    assert ticket["reference"] in message["text"]
    time.sleep(3)
    assert len(telegram.sent(patient.chat_id, after=mark)) == 1
    transcript = reception_api.get(f"/api/v1/tickets/{ticket['reference']}").json()["transcript"]
    assert transcript[-1]["sender"] == "staff"


def test_a_staff_message_sent_while_the_bot_is_stopped_arrives_once_it_is_back(
    stack: Stack,
    telegram: TelegramEmulator,
    content: ContentStore,
    reception_api: httpx.Client,
    down: list[str],
) -> None:
    """Reception keeps the message in its own outbox while the bot is dead; staff see it queued,
    then delivered, and the patient gets it once.
    """
    patient = Patient(telegram, content, 71_007, stack.bot_database)
    patient.fills_request(name="Lotte Claes", phone="0478 40 50 60")
    patient.taps_key("confirm.send")
    [ticket] = tickets_of(reception_api, patient.chat_id)
    reference = ticket["reference"]
    mark = telegram.mark(patient.chat_id)
    stack.kill_service("bot")
    down.append("bot")
    sent = reception_api.post(
        f"/api/v1/tickets/{reference}/messages",
        json={"text": "Your file is with our lung team; we will call you on Monday."},
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["delivery"] == "queued"
    stack.start_service("bot")
    [message] = patient.replies(after=mark)
    assert "we will call you on Monday" in message["text"]
    assert reference in message["text"]

    def staff_line() -> dict[str, object]:
        transcript = reception_api.get(f"/api/v1/tickets/{reference}").json()["transcript"]
        return next(line for line in transcript if line["sender"] == "staff")

    deadline = time.monotonic() + 60
    while staff_line()["delivery"] != "delivered":
        assert time.monotonic() < deadline, staff_line()
        time.sleep(0.2)
    assert len(telegram.sent(patient.chat_id, after=mark)) == 1

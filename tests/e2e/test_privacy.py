"""Privacy, end to end: erasure, withdrawn consent, retention, other patients' tickets, logs."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import httpx
import pytest

from contentlib import ContentStore
from conversation_id import ConversationId
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient
from tests.e2e.stored import outbox_rows, stored_words, tickets_of, tracker_rows

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"SO-\d{4}-\d{5}")


def stored_anywhere(stack: Stack, chat_id: int) -> str:
    """Everything the tracker store and both outboxes hold about a chat, as one text."""
    lane = str(ConversationId.telegram(chat_id))
    parts = [
        json.dumps(tracker_rows(stack, chat_id)),
        json.dumps(outbox_rows(stack.bot_database, lane)),
        json.dumps(outbox_rows(stack.workdir / "actions.db", lane)),
    ]
    return "\n".join(parts)


def test_delete_erases_the_patient_everywhere_after_a_confirmation(
    stack: Stack,
    telegram: TelegramEmulator,
    content: ContentStore,
    reception_api: httpx.Client,
) -> None:
    """/delete asks first; then reception anonymises the ticket (which stays, with its history),
    the tracker store and the bot forget the chat, and the patient is told.
    """
    patient = Patient(telegram, content, 72_001, stack.bot_database)
    patient.fills_request(name="Ines Delcourt", phone="0472 33 44 55", email="ines@example.be")
    patient.taps_key("confirm.send")
    reference = REFERENCE.search(patient.texts()[0])
    assert reference, patient.texts()
    assert "Ines Delcourt" in stored_anywhere(stack, patient.chat_id)

    patient.says("/delete")
    assert patient.texts() == [patient.seen("erasure_question")]
    patient.taps_key("erasure.cancel")
    assert tickets_of(reception_api, patient.chat_id), "keeping it keeps it"
    patient.says("please erase all my data")
    assert patient.texts() == [patient.seen("erasure_question")]
    patient.taps_key("erasure.confirm")
    assert patient.texts() == [patient.seen("erasure_done")]

    stored = stored_anywhere(stack, patient.chat_id)
    for detail in ("Ines", "Delcourt", "+32472334455", "ines@example.be", "breast"):
        assert detail not in stored, detail
    assert tracker_rows(stack, patient.chat_id) == []
    assert tickets_of(reception_api, patient.chat_id) == []
    ticket = reception_api.get(f"/api/v1/tickets/{reference.group(0)}").json()
    assert ticket["erased_at"] is not None
    assert ticket["contact"]["name"] is None and ticket["contact"]["phone"] is None
    assert ticket["transcript"] == []
    assert ticket["status"] == "cancelled"
    history = reception_api.get(f"/api/v1/tickets/{reference.group(0)}/history").json()
    assert {event["action"] for event in history["items"]} >= {"created", "erased"}

    patient.says("Hello")
    assert patient.texts() == [
        patient.seen("welcome"),
        patient.seen("privacy_notice"),
        patient.seen("consent_question"),
    ]


def test_withdrawing_consent_stops_the_collection_at_once(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, reception_api: httpx.Client
) -> None:
    """After 'I withdraw my consent' nothing the patient types is stored, and no request is made."""
    patient = Patient(telegram, content, 72_002, stack.bot_database)
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("stomach cancer")
    patient.says("I withdraw my consent")
    assert patient.texts() == [patient.seen("consent_withdrawn")]
    patient.taps_key("erasure.cancel")
    patient.says("I am Ottoline Brackenbury, my number is 0473 58 61 94, call me")
    patient.taps_key("menu.start")
    assert patient.texts()[0] == patient.seen("consent_needed")
    rows = tracker_rows(stack, patient.chat_id)
    withdrawn = max(i for i, row in enumerate(rows) if row.get("name") == "action_withdraw_consent")
    # Where a patient's words could be kept (texts, slots, entities, metadata), not in ids or times.
    kept = " ".join(stored_words(rows[withdrawn:])).lower()
    assert "start_request" in kept, "the check reads the fields where words are stored"
    for detail in ("ottoline", "brackenbury", "58 61 94", "586194"):
        assert detail not in kept
    assert all(row.get("text") is None for row in rows[withdrawn:] if row["event"] == "user")
    assert tickets_of(reception_api, patient.chat_id) == []


def test_declining_keeps_no_text_in_the_bot_either(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """The bot keeps a message only until it is answered: nothing of it stays in its outbox."""
    patient = Patient(telegram, content, 72_003, stack.bot_database)
    patient.says("Hello")
    patient.taps_key("consent.decline")
    patient.says("I have pancreatic cancer, my phone is 0474 86 29 53")
    time.sleep(1)
    stored = json.dumps(
        outbox_rows(stack.bot_database, str(ConversationId.telegram(patient.chat_id)))
    )
    # Details that cannot occur by chance in an id or a time.
    for detail in ("pancreatic", "86 29 53", "862953"):
        assert detail not in stored
    assert (
        outbox_rows(stack.workdir / "actions.db", str(ConversationId.telegram(patient.chat_id)))
        == []
    )


def test_another_patients_reference_shows_nothing_of_their_ticket(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, reception_api: httpx.Client
) -> None:
    """Typing someone else's reference never shows their request: only one's own, or none."""
    owner = Patient(telegram, content, 72_004, stack.bot_database)
    owner.fills_request(name="Paul Lambert", phone="0475 98 76 54")
    owner.taps_key("confirm.send")
    reference = REFERENCE.search(owner.texts()[0])
    assert reference
    stranger = Patient(telegram, content, 72_005, stack.bot_database)
    stranger.consents()
    for question in (
        f"what is the status of {reference.group(0)}?",
        f"where is request {reference.group(0)}",
    ):
        stranger.says(question)
        shown = " ".join(stranger.texts())
        assert reference.group(0) not in shown and "Paul" not in shown, shown
    assert tickets_of(reception_api, stranger.chat_id) == []


def test_conversations_idle_for_longer_than_kept_are_purged(stack: Stack) -> None:
    """The tracker store's retention job deletes a conversation idle for too long, only it."""
    old = time.time() - 400 * 24 * 3600
    with sqlite3.connect(stack.workdir / "tracker.db") as db:
        for sender, at in (("telegram:72999", old), ("telegram:72998", time.time())):
            db.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                (sender, "action", at, json.dumps({"event": "action", "timestamp": at})),
            )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(stack.workdir / "tracker.db") as db:
            senders = {
                row[0]
                for row in db.execute(
                    "SELECT sender_id FROM events WHERE sender_id IN (?, ?)",
                    ("telegram:72999", "telegram:72998"),
                )
            }
        if senders == {"telegram:72998"}:
            return
        time.sleep(1)
    raise AssertionError(f"the idle conversation was not purged: {senders}")


def test_the_logs_hold_no_message_text_names_phones_or_emails(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """After a whole request, no process has logged what the patient wrote or who they are."""
    patient = Patient(telegram, content, 72_006, stack.bot_database)
    patient.fills_request(
        name="Zoé Vandermeulen",
        phone="0476 31 41 59",
        email="zoe.vandermeulen@example.be",
        cancer="breast cancer with a lump near my armpit",
    )
    patient.says("will my oncologist be upset about a second opinion?")
    patient.taps_key("confirm.send")
    patient.says("/delete")
    patient.taps_key("erasure.confirm")
    time.sleep(2)
    logs = stack.logs()
    details = (
        "Zoé",
        "Vandermeulen",
        "31 41 59",
        "314159",
        "+32476314159",
        "zoe.vandermeulen",
        "armpit",
        "oncologist be upset",
    )
    for name, text in logs.items():
        for detail in details:
            assert detail not in text, f"{detail!r} appears in the {name} log"

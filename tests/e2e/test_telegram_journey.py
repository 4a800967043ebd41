"""Patients on Telegram, through python-telegram-bot, Rasa, the actions and reception."""

from __future__ import annotations

import re
import sqlite3
import time
import zlib

import httpx
import pytest

from contentlib import ContentStore
from contentlib.markdown import to_telegram_html
from conversation_id import ConversationId
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient
from tests.e2e.stored import stored_words, tickets_of, tracker_rows

pytestmark = pytest.mark.e2e


@pytest.fixture
def patient(
    request: pytest.FixtureRequest, stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> Patient:
    """A new patient with a chat of their own."""
    chat_id = 70_000 + zlib.crc32(request.node.nodeid.encode()) % 20_000
    return Patient(telegram, content, chat_id, stack.bot_database)


def test_a_full_request_reaches_reception_with_every_answer(
    patient: Patient, reception_api: httpx.Client
) -> None:
    """Consent, the whole form with buttons and free text, the summary, and the ticket's fields."""
    replies = patient.says("Hello")
    assert patient.texts() == [
        patient.seen("welcome"),
        patient.seen("privacy_notice"),
        patient.seen("consent_question"),
    ]
    assert all(r["parse_mode"] == "HTML" for r in replies)
    patient.taps_key("consent.agree")
    assert patient.content.text("menu.start", "en") in patient.buttons()

    patient.taps_key("menu.start")
    assert patient.texts() == [patient.seen("ask_cancer_type")]
    patient.says("there's a lump in my breast")
    assert patient.texts() == [patient.seen("ask_care_stage")]
    patient.taps_key("care_stages.recurrence")
    assert patient.texts() == [patient.seen("ask_residence")]
    patient.taps_key("residences.abroad")
    assert patient.texts()[:2] == [
        patient.seen("residence_abroad_note"),
        patient.seen("records_intro"),
    ]
    patient.taps_key("record_states.have")
    patient.taps_key("record_states.requested")
    patient.taps_key("record_states.not_yet")
    how = patient.content.text("records.pathology.how_to_get", "en")
    assert patient.texts()[:2] == [
        patient.seen("record_guidance", how_to_get=how),
        patient.seen("records_rights"),
    ]
    patient.says("yes")
    assert patient.texts() == [patient.seen("ask_contact_name")]
    patient.says("My name is Marie Dupont")
    patient.says("0470 12 34 56")
    assert patient.texts() == [patient.seen("ask_email")]
    patient.says("marie.dupont@example.be")
    patient.says("weekday mornings")
    [summary] = patient.texts()
    for expected in (
        "Marie Dupont",
        "+32 470 12 34 56",
        "marie.dupont@example.be",
        "weekday mornings",
    ):
        assert expected in summary
    patient.taps_key("confirm.send")
    reference = re.search(r"SO-\d{4}-\d{5}", patient.texts()[0])
    assert reference, patient.texts()
    checklist = patient.texts()[1]
    assert "Imaging" in checklist and "Pathology" in checklist and "Blood" not in checklist

    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["reference"] == reference.group(0)
    assert ticket["kind"] == "request"
    assert (ticket["cancer_type"], ticket["department"]) == ("breast", "breast_clinic")
    assert (ticket["stage"], ticket["residence"]) == ("recurrence", "abroad")
    assert ticket["records"] == {
        "reports": "have",
        "imaging": "requested",
        "pathology": "not_yet",
        "blood": "have",
    }
    assert ticket["contact"] == {
        "name": "Marie Dupont",
        "phone": "+32470123456",
        "email": "marie.dupont@example.be",
        "preferred_time": "weekday mornings",
    }
    assert ticket["language"] == "en"
    patient_lines = [line["text"] for line in ticket["transcript"] if line["sender"] == "patient"]
    assert "there's a lump in my breast" in patient_lines


def test_a_question_mid_form_is_answered_and_the_form_resumes(patient: Patient) -> None:
    """An FAQ question while the form waits is answered; the same question is asked again."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("lung cancer")
    assert patient.texts() == [patient.seen("ask_care_stage")]
    patient.says("will my doctor be offended if I ask for a second opinion?")
    assert patient.texts() == [patient.answer("doctor_offended"), patient.seen("ask_care_stage")]
    patient.taps_key("care_stages.just_diagnosed")
    assert patient.texts() == [patient.seen("ask_residence")]


def test_emergency_words_get_the_emergency_number_first(patient: Patient) -> None:
    """Chest pain in the middle of the form gets 112 before anything else; the form waits."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("I have terrible chest pain")
    assert patient.texts() == [
        patient.seen("emergency_medical"),
        patient.seen("emergency_continue"),
    ]
    assert "112" in patient.texts()[0]
    patient.says("je veux mourir")
    in_french = to_telegram_html(patient.content.text("emergency_distress", "fr"))
    assert patient.texts() == [
        in_french,
        patient.seen("emergency_distress"),
        patient.seen("emergency_continue"),
    ]
    assert "0800 32 123" in patient.texts()[0] and "02 648 40 14" in patient.texts()[1]
    patient.says("breast cancer")
    assert patient.texts() == [patient.seen("ask_care_stage")]


def test_declined_consent_stores_nothing_personal(
    patient: Patient, stack: Stack, reception_api: httpx.Client
) -> None:
    """Without consent the patient still gets answers, and no personal detail is kept anywhere."""
    patient.says("Hello")
    patient.taps_key("consent.decline")
    assert patient.texts() == [patient.seen("consent_declined")]
    patient.says("I have breast cancer, I am Zebulon Quarrington")
    patient.says("will my doctor be offended if I ask for a second opinion?")
    assert patient.texts() == [patient.answer("doctor_offended")]
    patient.says("you can call me on 0471 86 42 97 or zebulon.q@example.be")
    patient.taps_key("menu.human")
    assert patient.texts() == [patient.seen("callback_no_consent")]

    rows = tracker_rows(stack, patient.chat_id)
    assert [row for row in rows if row["event"] == "user"], "the conversation itself is tracked"
    assert all(row.get("text") is None for row in rows if row["event"] == "user")
    kept = " ".join(stored_words(rows)).lower()
    assert "faq_doctor_offended" in kept, "the check reads the fields where words are stored"
    for detail in ("breast", "zebulon", "quarrington", "86 42 97", "864297", "example.be"):
        assert detail not in kept
    assert tickets_of(reception_api, patient.chat_id) == []


def test_restart_starts_over(patient: Patient) -> None:
    """/restart forgets the conversation and begins with the privacy notice again."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("skin cancer")
    patient.says("/restart")
    assert patient.texts() == [
        patient.seen("welcome"),
        patient.seen("privacy_notice"),
        patient.seen("consent_question"),
    ]


def test_coming_back_after_the_session_expired_offers_to_continue(
    patient: Patient, stack: Stack
) -> None:
    """Days later, the bot remembers the unfinished request and resumes at the next question."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("prostate cancer")
    assert patient.texts() == [patient.seen("ask_care_stage")]
    three_days = 3 * 24 * 3600
    with sqlite3.connect(stack.workdir / "tracker.db") as db:
        db.execute(
            "UPDATE events SET timestamp = timestamp - ?, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - ?) "
            "WHERE sender_id = ?",
            (three_days, three_days, str(ConversationId.telegram(patient.chat_id))),
        )
    time.sleep(0.1)
    patient.says("Hello")
    assert patient.texts() == [patient.seen("resume_offer")]
    patient.taps_key("resume.continue")
    assert patient.texts() == [patient.seen("ask_care_stage")]


# Documents and photos are records (tests/bot/test_records.py); other media get a polite answer.
MEDIA = {
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
    """A sticker or voice message is answered, never silently dropped."""
    chat_id = 69_000 + sorted(MEDIA).index(kind)
    patient = Patient(telegram, content, chat_id, stack.bot_database)
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
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("unsupported_media")]


def test_a_file_sent_before_any_request_is_not_kept(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """Files join a request at reception; before there is one, the patient learns how to start."""
    patient = Patient(telegram, content, 69_100, stack.bot_database)
    patient.sends_document(b"%PDF-1.4\n%%EOF\n", "letter.pdf", "application/pdf")
    assert patient.texts() == [patient.seen("records_no_request")]


def test_human_help_mid_form_creates_a_callback_ticket(
    patient: Patient, reception_api: httpx.Client
) -> None:
    """/human in the middle of the request hands reception what is known, with its number."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("lymphoma")
    patient.says("/human")
    [reply] = patient.texts()
    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["kind"] == "callback"
    assert (ticket["cancer_type"], ticket["department"]) == ("haematological", "haematology")
    assert reply == patient.seen("callback_done", reference=ticket["reference"])
    patient.says("what's happening with my request?")
    assert ticket["reference"] in patient.texts()[0]


def test_an_edited_message_gets_a_notice_not_a_second_answer(patient: Patient) -> None:
    """Editing a sent message is explained, not processed as a new message."""
    patient.says("Hello")
    mark = patient.telegram.mark(patient.chat_id)
    patient.telegram.send_update(
        {
            "edited_message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "edit_date": 1_700_000_100,
                "chat": {"id": patient.chat_id, "type": "private"},
                "from": {"id": patient.chat_id, "is_bot": False, "first_name": "Test"},
                "text": "Hello again",
            }
        }
    )
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("edited_message")]


def test_group_chats_are_asked_to_go_private(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """In a group, ordinary messages are ignored on purpose and commands get a privacy notice."""
    group_id = -100_123
    patient = Patient(telegram, content, group_id, stack.bot_database)
    mark = telegram.mark(group_id)
    telegram.send_text(group_id, "I have breast cancer", chat_type="group", user_id=4242)
    time.sleep(3)
    assert telegram.sent(group_id, after=mark) == []
    telegram.send_text(group_id, "/start", chat_type="group", user_id=4242)
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("group_chat")]


def test_a_button_the_bot_never_sent_is_answered(patient: Patient) -> None:
    """Forged or stale callback data gets its query answered and a clear message."""
    patient.says("Hello")
    answered = len(patient.telegram.answered_callbacks)
    mark = patient.telegram.mark(patient.chat_id)
    patient.telegram.tap_button(patient.chat_id, "k:" + "0" * 32, allow_unknown=True)
    replies = patient.replies(after=mark)
    assert [r["text"] for r in replies] == [patient.seen("button_expired")]
    assert len(patient.telegram.answered_callbacks) == answered + 1


def test_a_flood_from_one_chat_does_not_hold_up_another(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> None:
    """While one chat sends a burst of messages, another patient is answered promptly."""
    flood = Patient(telegram, content, 61_001, stack.bot_database)
    calm = Patient(telegram, content, 61_002, stack.bot_database)
    for number in range(15):
        telegram.send_text(flood.chat_id, f"hello {number}")
    calm.says("Hello")
    assert calm.texts()[0] == calm.seen("welcome")
    still_to_come = 15 * 3 - len(telegram.sent(flood.chat_id))
    assert still_to_come > 0, "the flooding chat is still being answered after the calm one"
    telegram.wait_for(None, flood.chat_id, count=15 * 3, timeout=180)

"""The request form's questions, answer reading and checks, with a real CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.request_form import (
    ASK_ACTIONS,
    FORM,
    ActionChangeAnswer,
    ActionGoBack,
    ValidateRequestForm,
    parse_phone,
)
from actions.services import taxonomy
from contentlib import ContentStore
from tests.actions.conftest import ANSWERED

DOMAIN: dict = {"forms": {"request_form": {"required_slots": list(FORM.slots)}}}


def said(
    tracker: Callable[..., Tracker],
    requested: str,
    text: str,
    intent: str,
    confidence: float = 0.9,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message answers (or not) the requested slot."""
    current = tracker({"requested_slot": requested, **(slots or {})})
    current.latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    return current


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("breast", "breast"),
        ("lump in my breast", "breast"),
        ("I think it is brest cancer", "breast"),
        ("borstkanker", "breast"),
        ("cancer du sein", "breast"),
        ("blood cancer", "haematological"),
        ("sarcome", "sarcoma"),
        ("my mother has leukemia", "haematological"),
        ("Prostate", "urological"),
        ("not sure", "not_sure"),
    ],
)
def test_cancer_type_is_understood_in_the_patients_words(
    words: str, expected: str, tracker: Callable[..., Tracker]
) -> None:
    """Lay words, misspellings and other languages map to a taxonomy id."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().check_answer("cancer_type", words, dispatcher, tracker())
    assert result == {"cancer_type": expected}
    assert dispatcher.messages == []


def test_unknown_cancer_type_is_asked_again(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Words that name no cancer type are refused with an explanation."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().check_answer("cancer_type", "how long", dispatcher, tracker())
    assert result == {"cancer_type": None}
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("cancer_type_not_recognised", "en")
    ]


async def test_a_question_mid_form_is_not_taken_as_an_answer(
    tracker: Callable[..., Tracker],
) -> None:
    """An FAQ question while the name is asked fills nothing, so the form steps aside."""
    current = said(tracker, "contact_name", "will my doctor be offended?", "faq_doctor_offended")
    events = await ValidateRequestForm().get_extraction_events(
        CollectingDispatcher(), current, DOMAIN
    )
    assert events == []


async def test_an_answer_fills_only_the_requested_slot(tracker: Callable[..., Tracker]) -> None:
    """A name typed when the name is asked fills the name, without its "my name is"."""
    current = said(tracker, "contact_name", "My name is Marie Dupont", "give_name")
    events = await ValidateRequestForm().get_extraction_events(
        CollectingDispatcher(), current, DOMAIN
    )
    assert events == [SlotSet("contact_name", "Marie Dupont")]


async def test_low_confidence_digressions_still_count_as_answers(
    tracker: Callable[..., Tracker],
) -> None:
    """A name the model barely mistakes for a greeting is still taken as the name."""
    current = said(tracker, "contact_name", "Hope Janssens", "greet", confidence=0.3)
    events = await ValidateRequestForm().get_extraction_events(
        CollectingDispatcher(), current, DOMAIN
    )
    assert events == [SlotSet("contact_name", "Hope Janssens")]


@pytest.mark.parametrize(("intent", "state"), [("affirm", "have"), ("deny", "not_yet")])
async def test_yes_and_no_answer_the_records_questions(
    tracker: Callable[..., Tracker], intent: str, state: str
) -> None:
    """A "yes" to "do you have it?" means have it; a "no" means not yet."""
    current = said(tracker, "records_blood", "yes" if intent == "affirm" else "no", intent)
    events = await ValidateRequestForm().get_extraction_events(
        CollectingDispatcher(), current, DOMAIN
    )
    assert events == [SlotSet("records_blood", state)]


def test_not_yet_gets_concrete_guidance_and_the_patients_rights(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """The first "not yet" explains how to get it and the 15-day rule; later ones only how."""
    form = ValidateRequestForm()
    dispatcher = CollectingDispatcher()
    assert form.check_answer("records_imaging", "not_yet", dispatcher, tracker()) == {
        "records_imaging": "not_yet"
    }
    guidance = content.text(
        "record_guidance", "en", how_to_get=content.text("records.imaging.how_to_get", "en")
    )
    assert [m["text"] for m in dispatcher.messages] == [
        guidance,
        content.text("records_rights", "en"),
    ]
    assert "15 days" in dispatcher.messages[1]["text"]
    later = CollectingDispatcher()
    form.check_answer("records_blood", "not_yet", later, tracker({"records_imaging": "not_yet"}))
    assert len(later.messages) == 1


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("0470 12 34 56", "+32470123456"),
        ("my number is 02 541 31 11", "+3225413111"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0032 475 98 76 54", "+32475987654"),
    ],
)
def test_phone_numbers_are_kept_in_international_form(words: str, expected: str) -> None:
    """Belgian numbers without a country code, and foreign ones with it, are accepted."""
    assert parse_phone(words, "BE") == expected


def test_an_invalid_phone_number_is_refused(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """A number phonenumbers rejects is not kept, and the patient is told how to write it."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().check_answer("phone", "call me 12", dispatcher, tracker())
    assert result == {"phone": None}
    assert [m["text"] for m in dispatcher.messages] == [content.text("phone_not_valid", "en")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Marie.Dupont@Example.be", "marie.dupont@example.be"),
        ("skipped", "skipped"),
        ("nope", None),
    ],
)
def test_email_is_optional_but_checked(
    tracker: Callable[..., Tracker], value: str, expected: str | None
) -> None:
    """A well-formed address or a skip is kept; anything else is asked again."""
    result = ValidateRequestForm().check_answer("email", value, CollectingDispatcher(), tracker())
    assert result == {"email": expected}


def test_residence_abroad_explains_the_records_screening(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Patients abroad learn that their records are looked at first."""
    dispatcher = CollectingDispatcher()
    form = ValidateRequestForm()
    assert form.check_answer("residence", "abroad", dispatcher, tracker()) == {
        "residence": "abroad"
    }
    assert [m["text"] for m in dispatcher.messages] == [content.text("residence_abroad_note", "en")]
    assert form.check_answer("residence", "mars", CollectingDispatcher(), tracker()) == {
        "residence": None
    }


async def test_cancer_type_question_offers_every_group_in_short_buttons(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """One button per taxonomy entry, titled from content, with payloads Telegram accepts."""
    dispatcher = CollectingDispatcher()
    await ASK_ACTIONS["cancer_type"]().run(dispatcher, tracker(), DOMAIN)
    [message] = dispatcher.messages
    assert message["text"] == content.text("ask_cancer_type", "en")
    titles = [b["title"] for b in message["buttons"]]
    assert titles == [content.text(f"cancer_types.{i}", "en") for i in taxonomy().ids]
    assert all(len(b["payload"].encode()) <= 64 for b in message["buttons"])


async def test_residence_and_records_questions_have_their_buttons(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Residence offers Belgium and abroad; the first records question introduces the checklist."""
    dispatcher = CollectingDispatcher()
    await ASK_ACTIONS["residence"]().run(dispatcher, tracker(), DOMAIN)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/inform_residence{"residence":"belgium"}',
        '/inform_residence{"residence":"abroad"}',
    ]
    records = CollectingDispatcher()
    await ASK_ACTIONS["records_reports"]().run(records, tracker(), DOMAIN)
    assert records.messages[0]["text"] == content.text("records_intro", "en")
    assert [b["payload"] for b in records.messages[1]["buttons"]] == [
        '/inform_record_status{"record_status":"have"}',
        '/inform_record_status{"record_status":"requested"}',
        '/inform_record_status{"record_status":"not_yet"}',
    ]


async def test_summary_reads_every_answer_back(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """The summary shows each answer in words, with a send button and one per change."""
    dispatcher = CollectingDispatcher()
    await ASK_ACTIONS["request_confirmed"]().run(dispatcher, tracker(ANSWERED), DOMAIN)
    [message] = dispatcher.messages
    for expected in (
        content.text("cancer_types.lung", "en"),
        content.text("care_stages.in_treatment", "en"),
        "Jan Peeters",
        "+32 470 12 34 56",
        "after 2 pm",
        content.text("summary_no_email", "en"),
    ):
        assert expected in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/affirm"
    assert '/change_answer{"field":"phone"}' in payloads


async def test_go_back_clears_the_previous_answer(tracker: Callable[..., Tracker]) -> None:
    """Going back from the phone question clears the name, so it is asked again."""
    events = await ActionGoBack().run(
        CollectingDispatcher(), tracker({"requested_slot": "phone"}), DOMAIN
    )
    assert events == [SlotSet(FORM.slots[FORM.slots.index("phone") - 1], None)]


async def test_changing_the_records_clears_all_four(tracker: Callable[..., Tracker]) -> None:
    """Changing "records" from the summary asks the whole checklist again."""
    current = tracker()
    current.latest_message = {
        "text": "",
        "intent": {"name": "change_answer"},
        "entities": [{"entity": "field", "value": "records"}],
    }
    events = await ActionChangeAnswer().run(CollectingDispatcher(), current, DOMAIN)
    assert {e["name"] for e in events} == {
        "records_reports",
        "records_imaging",
        "records_pathology",
        "records_blood",
        "request_confirmed",
    }
    assert all(e["value"] is None for e in events)

"""The request form's questions and answer checks, with a real CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.request_form import (
    ActionAskCancerType,
    ActionAskResidence,
    ValidateRequestForm,
    parse_phone,
)
from actions.services import taxonomy
from contentlib import ContentStore

DOMAIN: dict = {}


@pytest.mark.parametrize(
    ("said", "expected"),
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
    said: str, expected: str, tracker: Callable[..., Tracker]
) -> None:
    """Lay words, misspellings and other languages map to a taxonomy id."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().validate_cancer_type(said, dispatcher, tracker(), DOMAIN)
    assert result == {"cancer_type": expected}
    assert dispatcher.messages == []


def test_unknown_cancer_type_is_asked_again(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Words that name no cancer type are refused with an explanation."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().validate_cancer_type("how long", dispatcher, tracker(), DOMAIN)
    assert result == {"cancer_type": None}
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("cancer_type_not_recognised", "en")
    ]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("0470 12 34 56", "+32470123456"),
        ("my number is 02 541 31 11", "+3225413111"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0032 475 98 76 54", "+32475987654"),
    ],
)
def test_phone_numbers_are_kept_in_international_form(said: str, expected: str) -> None:
    """Belgian numbers without a country code, and foreign ones with it, are accepted."""
    assert parse_phone(said, "BE") == expected


def test_an_invalid_phone_number_is_refused(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """A number phonenumbers rejects is not kept, and the patient is told how to write it."""
    dispatcher = CollectingDispatcher()
    result = ValidateRequestForm().validate_phone("call me 12", dispatcher, tracker(), DOMAIN)
    assert result == {"phone": None}
    assert [m["text"] for m in dispatcher.messages] == [content.text("phone_not_valid", "en")]


def test_residence_accepts_only_known_values(tracker: Callable[..., Tracker]) -> None:
    """Only Belgium or abroad are kept."""
    form = ValidateRequestForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_residence("abroad", dispatcher, tracker(), DOMAIN) == {
        "residence": "abroad"
    }
    assert form.validate_residence("mars", dispatcher, tracker(), DOMAIN) == {"residence": None}


async def test_cancer_type_question_offers_every_group_in_short_buttons(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """One button per taxonomy entry, titled from content, with payloads Telegram accepts."""
    dispatcher = CollectingDispatcher()
    await ActionAskCancerType().run(dispatcher, tracker(), DOMAIN)
    [message] = dispatcher.messages
    assert message["text"] == content.text("ask_cancer_type", "en")
    titles = [b["title"] for b in message["buttons"]]
    assert titles == [content.text(f"cancer_types.{i}", "en") for i in taxonomy().ids]
    assert all(len(b["payload"].encode()) <= 64 for b in message["buttons"])
    assert message["buttons"][0]["payload"] == '/inform_cancer_type{"cancer_type":"breast"}'


async def test_residence_question_has_two_buttons(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """The residence question offers Belgium and abroad."""
    dispatcher = CollectingDispatcher()
    await ActionAskResidence().run(dispatcher, tracker(), DOMAIN)
    [message] = dispatcher.messages
    assert [b["payload"] for b in message["buttons"]] == [
        '/inform_residence{"residence":"belgium"}',
        '/inform_residence{"residence":"abroad"}',
    ]

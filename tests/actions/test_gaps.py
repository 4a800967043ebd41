"""Questions not understood go to reception's gap report: anonymous, never with contact details."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.information import ActionClarify, ActionOutOfScope
from contentlib import ContentStore
from tests.actions.conftest import FakeReception, make_tracker


def asked(text: str, intent: str, form_active: bool = False) -> Tracker:
    """A tracker whose latest message is `text`, understood as `intent`."""
    tracker = make_tracker(sender_id="telegram:4242", form_active=form_active)
    tracker.latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.2},
        "intent_ranking": [{"name": "faq_costs", "confidence": 0.2}],
        "entities": [],
    }
    return tracker


async def run(action: Any, tracker: Tracker) -> CollectingDispatcher:
    """Run an action and return what it said."""
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker, {})
    return dispatcher


async def test_a_question_not_understood_is_reported_without_who_asked(
    reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = await run(ActionClarify(), asked("  Can I  park my car?\n", "nlu_fallback"))
    assert reception.gaps == [
        {"text": "Can I park my car?", "language": "en", "intent": "nlu_fallback"}
    ]
    assert dispatcher.messages[0]["text"] == content.text("clarify", "en")


async def test_an_off_topic_question_is_reported_after_the_answer(
    reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = await run(ActionOutOfScope(), asked("what's the weather", "out_of_scope"))
    assert reception.gaps == [
        {"text": "what's the weather", "language": "en", "intent": "out_of_scope"}
    ]
    assert dispatcher.messages[0]["text"] == content.text("out_of_scope", "en")


@pytest.mark.parametrize(
    "text",
    [
        "call me on 0470 12 34 56 please",
        "my number is +32 2 541 31 11",
        "write to marie.dupont@example.be",
    ],
)
async def test_a_question_with_contact_details_is_dropped(
    reception: FakeReception, text: str
) -> None:
    await run(ActionClarify(), asked(text, "nlu_fallback"))
    assert reception.gaps == []


async def test_nothing_is_reported_while_the_request_form_runs(reception: FakeReception) -> None:
    await run(ActionClarify(), asked("Marie Dupont", "nlu_fallback", form_active=True))
    assert reception.gaps == []


async def test_button_payloads_are_not_questions(reception: FakeReception) -> None:
    await run(ActionClarify(), asked("/show_menu", "nlu_fallback"))
    assert reception.gaps == []


async def test_a_long_question_is_cut(reception: FakeReception) -> None:
    await run(ActionClarify(), asked("why" * 200, "nlu_fallback"))
    assert reception.gaps[0]["text"] == "why" * 100


async def test_reception_being_down_does_not_stop_the_answer(
    reception: FakeReception, monkeypatch: pytest.MonkeyPatch, content: ContentStore
) -> None:
    monkeypatch.setenv("RECEPTION_URL", "http://127.0.0.1:9")
    services.settings.cache_clear()
    services.reception.cache_clear()
    dispatcher = await run(ActionClarify(), asked("Can I park my car?", "nlu_fallback"))
    assert dispatcher.messages[0]["text"] == content.text("clarify", "en")

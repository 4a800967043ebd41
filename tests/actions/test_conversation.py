"""Welcome, consent and language, with a real CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation, services
from actions.conversation import (
    ActionChooseLanguage,
    ActionRecordDecline,
    ActionSessionStart,
    ActionWelcome,
)
from actions.request_form import FORM
from contentlib import ContentStore

MINIMAL_MESSAGES = """\
welcome: Hi
privacy_notice: P
consent_question: Q
consent: {agree: Y, decline: N}
languages: {en: English, fr: Français}
"""


async def test_first_welcome_asks_for_consent(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """A new patient gets the welcome, the privacy notice and the consent question."""
    dispatcher = CollectingDispatcher()
    await ActionWelcome().run(dispatcher, tracker({"consent": None}, form_active=False), {})
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("welcome", "en"),
        content.text("privacy_notice", "en"),
        content.text("consent_question", "en"),
    ]
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]


async def test_declining_forgets_every_answer(tracker: Callable[..., Tracker]) -> None:
    """Withdrawing consent empties every slot of the request."""
    events = await ActionRecordDecline().run(
        CollectingDispatcher(), tracker({"consent": "given", "phone": "+32470123456"}), {}
    )
    assert events[0] == SlotSet("consent", "declined")
    assert {e["name"] for e in events[1:]} == set(FORM.slots)
    assert all(e["value"] is None for e in events[1:])


async def test_a_second_language_is_offered_when_its_content_exists(
    tracker: Callable[..., Tracker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With French content next to English, the welcome offers both languages."""
    for language in ("en", "fr"):
        (tmp_path / language).mkdir()
        (tmp_path / language / "messages.yml").write_text(MINIMAL_MESSAGES)
    store = ContentStore(tmp_path)
    monkeypatch.setattr(services, "content", lambda: store)
    monkeypatch.setattr(conversation, "content", lambda: store)
    dispatcher = CollectingDispatcher()
    await ActionWelcome().run(dispatcher, tracker({"consent": None}, form_active=False), {})
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/set_language{"language":"en"}',
        '/set_language{"language":"fr"}',
    ]


async def test_choosing_a_language_sets_the_slot(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """A language we have content for is set; the confirmation comes in that language."""
    current = tracker()
    current.latest_message = {"entities": [{"entity": "language", "value": "en"}], "intent": {}}
    dispatcher = CollectingDispatcher()
    events = await ActionChooseLanguage().run(dispatcher, current, {})
    assert events == [SlotSet("language", "en")]
    assert dispatcher.messages[0]["text"] == content.text("language_set", "en")


async def test_a_new_session_keeps_answers_and_offers_to_continue(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """After a pause the answers are carried over and an unfinished request is offered again."""
    current = tracker({"consent": "given", "cancer_type": "lung", "requested_slot": "care_stage"})
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, current, {})
    assert events[0]["event"] == "session_started"
    assert SlotSet("cancer_type", "lung") in events
    assert all(e.get("name") != "requested_slot" for e in events)
    assert [m["text"] for m in dispatcher.messages] == [content.text("resume_offer", "en")]

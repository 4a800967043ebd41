"""The anonymous funnel: each conversation counted once per step, with its language only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.conversation import ActionRecordConsent, ActionSessionStart
from actions.information import ActionAnswerFaq
from actions.request_form import ASK_ACTIONS, FORM
from tests.actions.conftest import FakeReception


async def test_a_conversation_is_counted_at_its_first_session_only(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    await ActionSessionStart().run(CollectingDispatcher(), tracker({"language": "fr"}), {})
    assert reception.steps == [{"step": "conversation", "language": "fr"}]
    later = tracker({"language": "fr"}, events=[{"event": "session_started"}])
    await ActionSessionStart().run(CollectingDispatcher(), later, {})
    assert len(reception.steps) == 1


async def test_consent_is_counted_once(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    await ActionRecordConsent().run(CollectingDispatcher(), tracker({"language": "nl"}), {})
    await ActionRecordConsent().run(CollectingDispatcher(), tracker({"consent": "given"}), {})
    assert reception.steps == [{"step": "consent", "language": "nl"}]


async def test_each_question_is_counted_the_first_time_it_is_asked(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    first, second = FORM.slots[0], FORM.slots[1]
    await ASK_ACTIONS[first]().run(CollectingDispatcher(), tracker(), {})
    asked = [{"event": "action", "name": f"action_ask_{first}"}]
    await ASK_ACTIONS[first]().run(CollectingDispatcher(), tracker(events=asked), {})
    await ASK_ACTIONS[second]().run(CollectingDispatcher(), tracker(events=asked), {})
    assert [step["step"] for step in reception.steps] == ["request_started", first, second]


async def test_each_answer_from_the_faq_counts_its_topic(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    asking = tracker({"language": "nl"}, form_active=False)
    asking.latest_message = {"intent": {"name": "faq_costs", "confidence": 0.9}}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, asking, {})
    assert len(dispatcher.messages) == 1
    assert reception.topics == [{"topic": "costs", "language": "nl"}]


async def test_a_count_reception_cannot_take_is_skipped(
    tracker: Callable[..., Tracker],
    reception: FakeReception,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECEPTION_URL", "http://127.0.0.1:9")
    for cached in (services.settings, services.reception):
        cached.cache_clear()
    dispatcher = CollectingDispatcher()
    await ActionRecordConsent().run(dispatcher, tracker(), {})
    assert len(dispatcher.messages) == 1  # the patient still hears the thanks
    assert "funnel step not counted" in caplog.text

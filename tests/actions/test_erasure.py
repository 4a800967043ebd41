"""Withdrawing consent and erasing data, against a real HTTP server standing in for reception."""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.erasure import ActionEraseData, ActionWithdrawConsent
from actions.handoff import ActionHandoff
from actions.request_form import FORM
from contentlib import ContentStore
from tests.actions.conftest import FakeReception
from tests.actions.test_handoff import SLOTS, events
from tests.waiting import until


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """What the patient reads."""
    return [m["text"] for m in dispatcher.messages if m.get("text")]


async def test_erasing_anonymises_at_reception_and_forgets_everywhere(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Reception gets the conversation to erase; the tracker store and the bot are told."""
    await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(100.0)), {})
    dispatcher = CollectingDispatcher()
    result = await ActionEraseData().run(dispatcher, tracker(SLOTS, []), {})
    assert reception.erasures == [{"channel": "telegram", "channel_address": "555"}]
    assert texts(dispatcher) == [content.text("erasure_done", "en")]
    assert {"erase_conversation": True} in [m.get("custom") for m in dispatcher.messages]
    assert result == [SlotSet("erase_requested", True)]


async def test_an_erasure_waits_for_reception_and_follows_the_saved_request(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """With reception down, both are saved; the request arrives first, with no notice after."""
    reception.status = 503
    await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(100.0)), {})
    dispatcher = CollectingDispatcher()
    result = await ActionEraseData().run(dispatcher, tracker(SLOTS, []), {})
    assert texts(dispatcher) == [content.text("erasure_saved", "en")]
    assert result == [SlotSet("erase_requested", True)]
    assert reception.arrivals == []
    reception.status = 201
    await until(lambda: len(reception.arrivals) == 2)
    assert reception.arrivals == ["ticket", "erasure"]
    assert reception.erasures[-1] == {"channel": "telegram", "channel_address": "555"}
    assert reception.notices == []


async def test_withdrawing_consent_forgets_the_answers_and_offers_to_erase(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Collection stops at once; erasing what was sent is offered, not imposed."""
    dispatcher = CollectingDispatcher()
    result = await ActionWithdrawConsent().run(dispatcher, tracker(SLOTS), {})
    [message] = dispatcher.messages
    assert message["text"] == content.text("consent_withdrawn", "en")
    assert [b["payload"] for b in message["buttons"]] == ["/confirm_erasure", "/deny"]
    assert SlotSet("consent", "declined") in result
    assert {event["name"] for event in result if event["value"] is None} >= set(FORM.slots)

"""Information actions: clarifying what the patient meant, answering FAQ topics."""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.information import ActionAnswerFaq, ActionClarify
from contentlib import ContentStore


def misunderstood(
    tracker: Callable[..., Tracker], ranking: list[str], before: str = "greet"
) -> Tracker:
    """A tracker whose latest message fell back, with an intent ranking, after `before`."""
    current = tracker(
        events=[
            {"event": "user", "parse_data": {"intent": {"name": before}}},
            {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        ],
        form_active=False,
    )
    current.latest_message = {
        "intent": {"name": "nlu_fallback", "confidence": 0.4},
        "intent_ranking": [{"name": name, "confidence": 0.3} for name in ranking],
    }
    return current


async def test_did_you_mean_offers_the_two_best_guesses(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """The two best offerable guesses become buttons, FAQ topics titled with their question."""
    ranking = ["nlu_fallback", "give_phone", "faq_costs", "ask_how", "ask_why"]
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, misunderstood(tracker, ranking), {})
    [message] = dispatcher.messages
    assert message["text"] == content.text("clarify", "en")
    assert [b["payload"] for b in message["buttons"]] == ["/faq_costs", "/ask_how", "/show_menu"]
    assert message["buttons"][0]["title"] == content.topics("en")["costs"].title


async def test_a_second_miss_offers_the_menu_and_reception(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """Two misunderstandings in a row get the menu and reception's number instead."""
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(
        dispatcher, misunderstood(tracker, ["ask_how"], before="nlu_fallback"), {}
    )
    [message] = dispatcher.messages
    assert message["text"] == content.text("clarify_again", "en")
    assert "/request_human" in [b["payload"] for b in message["buttons"]]


async def test_faq_answer_comes_with_related_topics(
    tracker: Callable[..., Tracker], content: ContentStore
) -> None:
    """An FAQ answer is the topic's body, with its related topics as buttons."""
    current = tracker(form_active=False)
    current.latest_message = {"intent": {"name": "faq_records_deadline", "confidence": 0.9}}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, current, {})
    [message] = dispatcher.messages
    assert message["text"] == content.answer("records_deadline", "en")
    topic = content.topics("en")["records_deadline"]
    assert [b["payload"] for b in message["buttons"]] == [f"/faq_{r}" for r in topic.related]

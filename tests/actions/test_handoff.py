"""The handoff action against a real HTTP server standing in for reception."""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, channel_of
from contentlib import ContentStore
from tests.actions.conftest import FakeReception

SLOTS = {"cancer_type": "breast", "residence": "abroad", "phone": "+32470123456"}


def events(form_started_at: float) -> list[dict]:
    """A short conversation: the form starts, the patient answers, the bot asks."""
    return [
        {"event": "user", "text": "hello", "timestamp": form_started_at - 1},
        {"event": "active_loop", "name": "request_form", "timestamp": form_started_at},
        {"event": "bot", "text": "Which type?", "timestamp": form_started_at + 1},
        {
            "event": "user",
            "text": '/inform_residence{"residence":"abroad"}',
            "timestamp": form_started_at + 2,
        },
    ]


async def test_handoff_sends_the_ticket_and_confirms_its_reference(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Reception gets the slots, channel and transcript; the patient gets the reference."""
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    assert result == [SlotSet("ticket_reference", "SO-2026-00001")]
    [request] = reception.requests
    body = request["body"]
    assert body["cancer_type"] == "breast"
    assert body["department"] == "breast_clinic"
    assert body["residence"] == "abroad"
    assert body["contact"] == {"phone": "+32470123456"}
    assert (body["channel"], body["channel_address"]) == ("telegram", "555")
    assert [(line["sender"], line["text"]) for line in body["transcript"]] == [
        ("patient", "hello"),
        ("bot", "Which type?"),
        ("patient", content.text("residence.abroad", "en")),
    ]
    [message] = dispatcher.messages
    assert message["text"] == content.text(
        "handoff_done",
        "en",
        reference="SO-2026-00001",
        department=content.reference("en")["departments"]["breast_clinic"],
        phone="+32 470 12 34 56",
    )


async def test_retrying_the_same_request_reuses_its_idempotency_key(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    """The same conversation and form start give the same key; a new request a new one."""
    for started in (100.0, 100.0, 200.0):
        await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(started)), {})
    keys = [r["headers"]["Idempotency-Key"] for r in reception.requests]
    assert keys[0] == keys[1] != keys[2]
    assert len(reception.tickets) == 2


async def test_reception_refusing_the_ticket_tells_the_patient_to_call(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """When reception fails, the patient gets reception's number instead of silence."""
    reception.status = 503
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    assert result == []
    assert [m["text"] for m in dispatcher.messages] == [content.text("handoff_failed", "en")]


def test_conversation_ids_name_their_channel() -> None:
    """Telegram and web chat conversation ids split into channel and address."""
    assert channel_of("telegram:42") == ("telegram", "42")
    assert channel_of("webchat:abcdefgh") == ("webchat", "abcdefgh")

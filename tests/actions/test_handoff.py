"""The handoff, callback and status actions against a real HTTP server standing in for reception."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.handoff import ActionHandoff, ActionRequestCallback, ActionRequestStatus
from contentlib import ContentStore
from tests.actions.conftest import FakeReception
from tests.waiting import until

SLOTS = {
    "consent": "given",
    "cancer_type": "breast",
    "care_stage": "recurrence",
    "residence": "abroad",
    "records_reports": "have",
    "records_imaging": "requested",
    "records_pathology": "not_yet",
    "records_blood": "have",
    "contact_name": "Marie Dupont",
    "phone": "+32470123456",
    "email": "skipped",
    "preferred_time": "mornings",
    "request_confirmed": True,
}


def events(form_started_at: float) -> list[dict]:
    """A short conversation: the form starts, the patient answers, the bot asks."""
    return [
        {"event": "user", "text": "hello", "timestamp": form_started_at - 1},
        {"event": "active_loop", "name": "request_form", "timestamp": form_started_at},
        {"event": "bot", "text": "Which **type**?", "timestamp": form_started_at + 1},
        {
            "event": "user",
            "text": '/inform_residence{"residence":"abroad"}',
            "timestamp": form_started_at + 2,
        },
    ]


async def test_handoff_sends_every_answer_and_confirms_with_the_checklist(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Reception gets the answers and transcript; the patient the reference and checklist."""
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    assert result == [
        SlotSet("ticket_reference", "SO-2026-00001"),
        SlotSet("handed_over", True),
        SlotSet("reminders", "offered"),
    ]
    [request] = reception.requests
    body = request["body"]
    assert body["kind"] == "request"
    assert (body["cancer_type"], body["department"]) == ("breast", "breast_clinic")
    assert (body["stage"], body["residence"]) == ("recurrence", "abroad")
    assert body["records"] == {
        "reports": "have",
        "imaging": "requested",
        "pathology": "not_yet",
        "blood": "have",
    }
    assert body["contact"] == {
        "name": "Marie Dupont",
        "phone": "+32470123456",
        "email": None,
        "preferred_time": "mornings",
    }
    assert (body["channel"], body["channel_address"]) == ("telegram", "555")
    assert [(line["sender"], line["text"]) for line in body["transcript"]] == [
        ("patient", "hello"),
        ("bot", "Which type?"),
        ("patient", content.text("residences.abroad", "en")),
    ]
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0] == content.text(
        "handoff_done",
        "en",
        reference="SO-2026-00001",
        department=content.reference("en")["departments"]["breast_clinic"],
    )
    assert [(b["title"], b["payload"]) for b in dispatcher.messages[0]["buttons"]] == [
        (content.text("records_link_button", "en"), "/send_records")
    ]
    checklist = texts[1]
    assert content.text("records.imaging.name", "en") in checklist
    assert content.text("records.pathology.name", "en") in checklist
    assert content.text("records.reports.name", "en") not in checklist


async def test_all_records_at_hand_gets_no_checklist(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """With every record at hand, the patient is told to bring them instead."""
    slots = {**SLOTS, "records_imaging": "have", "records_pathology": "have"}
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(slots, events(100.0)), {})
    assert dispatcher.messages[-1]["text"] == content.text("handoff_all_records", "en")


async def test_retrying_the_same_request_reuses_its_idempotency_key(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    """The same conversation and form start give the same ticket; a new request a new one."""
    results = [
        await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(started)), {})
        for started in (100.0, 100.0, 200.0)
    ]
    assert results[0] == results[1] != results[2]
    keys = [r["headers"]["Idempotency-Key"] for r in reception.requests]
    assert len(keys) == len(set(keys)) == 2
    assert len(reception.tickets) == 2


async def test_reception_down_saves_the_request_and_it_arrives_later_once(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """The patient is told it is saved; when reception is back it arrives once, and they hear."""
    reception.status = 503
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    assert result == [
        SlotSet("ticket_reference", None),
        SlotSet("handed_over", True),
        SlotSet("reminders", "offered"),  # the answer will follow the request, in order
    ]
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0] == content.text("handoff_saved", "en")
    assert dispatcher.messages[0]["buttons"] == []  # no link before the request has arrived
    assert content.text("records.imaging.name", "en") in texts[1]
    assert reception.tickets == {}
    reception.status = 201
    await until(lambda: reception.notices)
    assert len(reception.tickets) == 1
    [notice] = reception.notices
    assert notice["body"] == {
        "channel": "telegram",
        "address": "555",
        "text": content.text("handoff_arrived", "en", reference="SO-2026-00001"),
        "reference": "SO-2026-00001",
        "language": "en",
        "sender": "assistant",
    }
    await asyncio.sleep(0.5)
    assert len(reception.notices) == 1
    keys = {r["headers"]["Idempotency-Key"] for r in reception.requests}
    assert len(keys) == 1 and len(reception.requests) >= 2


async def test_the_same_request_saved_twice_is_one_ticket(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    """Handing over the same request again while it waits does not make a second ticket."""
    reception.status = 503
    for _ in range(2):
        await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(100.0)), {})
    assert await services.courier().tickets_on_their_way("telegram:555") == 1
    reception.status = 201
    await until(lambda: reception.notices)
    assert len(reception.tickets) == 1


async def test_reception_refusing_the_ticket_tells_the_patient_to_call(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """A ticket reception will never accept gets reception's number instead of silence."""
    reception.status = 422
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    assert result == [SlotSet("request_confirmed", None)]
    assert [m["text"] for m in dispatcher.messages] == [content.text("handoff_failed", "en")]
    assert await services.courier().tickets_on_their_way("telegram:555") == 0


async def test_a_request_on_its_way_is_what_the_status_says(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Asking for the status of a saved request does not answer that there is none."""
    reception.status = 503
    await ActionHandoff().run(CollectingDispatcher(), tracker(SLOTS, events(100.0)), {})
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    assert [m["text"] for m in dispatcher.messages] == [content.text("status_on_its_way", "en")]


async def test_callback_sends_what_is_known(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Talking to a person creates a callback ticket with the answers given so far."""
    slots = {"consent": "given", "cancer_type": "lung"}
    dispatcher = CollectingDispatcher()
    await ActionRequestCallback().run(dispatcher, tracker(slots, events(100.0)), {})
    [request] = reception.requests
    assert request["body"]["kind"] == "callback"
    assert request["body"]["cancer_type"] == "lung"
    assert request["body"]["contact"]["phone"] is None
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("callback_done", "en", reference="SO-2026-00001")
    ]


async def test_callback_without_consent_stores_nothing(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Without consent no ticket is made; the patient still gets reception's number."""
    dispatcher = CollectingDispatcher()
    await ActionRequestCallback().run(dispatcher, tracker({}, events(100.0)), {})
    assert reception.requests == []
    assert [m["text"] for m in dispatcher.messages] == [content.text("callback_no_consent", "en")]


async def test_status_is_looked_up_by_conversation_not_by_reference(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """The status comes from this conversation's own ticket, in plain words."""
    reception.listed = [
        {
            "reference": "SO-2026-00007",
            "status": "waiting_for_records",
            "channel": "telegram",
            "channel_address": "555",
        }
    ]
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    assert reception.list_queries == [
        {"channel": "telegram", "channel_address": "555", "limit": "10"}
    ]
    assert [m["text"] for m in dispatcher.messages] == [
        content.text(
            "status_report",
            "en",
            reference="SO-2026-00007",
            status=content.text("statuses.waiting_for_records", "en"),
        )
    ]


async def test_another_conversations_ticket_is_never_shown(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """Even if reception answered with someone else's ticket, the patient does not see it."""
    reception.listed = [
        {
            "reference": "SO-2026-00008",
            "status": "new",
            "channel": "telegram",
            "channel_address": "999",
        }
    ]
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    assert [m["text"] for m in dispatcher.messages] == [content.text("status_none", "en")]

"""Reminders of missing records, as the conversation offers, records and stops them."""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.erasure import ActionWithdrawConsent
from actions.handoff import ActionHandoff, ActionRequestStatus
from actions.reminders import ActionAnswerReminderOffer, ActionStopReminders
from contentlib import ContentStore
from tests.actions.conftest import FakeReception
from tests.actions.test_handoff import SLOTS, events

ADDRESS = {"channel": "telegram", "channel_address": "555"}


def answering(tracker: Callable[..., Tracker], intent: str, reminders: str | None) -> Tracker:
    """A conversation whose latest message is a yes or a no."""
    built = tracker({"reminders": reminders}, form_active=False)
    built.latest_message = {"text": f"/{intent}", "intent": {"name": intent}, "entities": []}
    return built


async def test_the_handoff_offers_reminders_when_records_are_missing(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(SLOTS, events(100.0)), {})
    offer = dispatcher.messages[-1]
    assert offer["text"] == content.text("follow_up_offer", "en")
    assert [(b["title"], b["payload"]) for b in offer["buttons"]] == [
        (content.text("follow_up.accept", "en"), "/affirm"),
        (content.text("follow_up.decline", "en"), "/deny"),
    ]

    complete = {**SLOTS, "records_imaging": "have", "records_pathology": "have"}
    dispatcher = CollectingDispatcher()
    result = await ActionHandoff().run(dispatcher, tracker(complete, events(200.0)), {})
    assert all(m["text"] != content.text("follow_up_offer", "en") for m in dispatcher.messages)
    assert all(event["name"] != "reminders" for event in result)


async def test_yes_and_no_reach_reception_and_are_confirmed(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    for intent, state in (("affirm", "wanted"), ("deny", "declined")):
        dispatcher = CollectingDispatcher()
        result = await ActionAnswerReminderOffer().run(
            dispatcher, answering(tracker, intent, "offered"), {}
        )
        assert result == [SlotSet("reminders", state)]
        assert [m["text"] for m in dispatcher.messages] == [
            content.text(f"follow_up_{state}", "en")
        ]
        assert reception.follow_ups[-1] == {**ADDRESS, "follow_up": state}


async def test_a_yes_that_answers_no_offer_shows_the_menu(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerReminderOffer().run(
        dispatcher, answering(tracker, "affirm", None), {}
    )
    assert result == []
    assert [m["text"] for m in dispatcher.messages] == [content.text("menu_prompt", "en")]
    assert reception.follow_ups == []


async def test_stop_reaches_reception_and_says_so(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = CollectingDispatcher()
    result = await ActionStopReminders().run(dispatcher, answering(tracker, "stop", "wanted"), {})
    assert result == [SlotSet("reminders", "stopped")]
    assert [m["text"] for m in dispatcher.messages] == [content.text("follow_up_stopped", "en")]
    assert reception.follow_ups == [{**ADDRESS, "follow_up": "stopped"}]


async def test_a_refused_answer_tells_the_patient_to_try_again(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    reception.status = 422
    dispatcher = CollectingDispatcher()
    result = await ActionStopReminders().run(dispatcher, answering(tracker, "stop", "wanted"), {})
    assert result == []
    assert [m["text"] for m in dispatcher.messages] == [content.text("follow_up_unavailable", "en")]


async def test_withdrawing_consent_stops_the_reminders(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    dispatcher = CollectingDispatcher()
    result = await ActionWithdrawConsent().run(
        dispatcher, tracker({**SLOTS, "reminders": "wanted"}), {}
    )
    assert reception.follow_ups == [{**ADDRESS, "follow_up": "stopped"}]
    assert SlotSet("reminders", None) in result


async def test_the_status_lists_the_records_still_missing(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """The reminder's "what is still missing?" button asks for the status."""
    ticket = {
        "reference": "SO-2026-00007",
        "kind": "request",
        "status": "waiting_for_records",
        "closed_at": None,
        "records": {"reports": "have", "imaging": "requested", "blood": "not_yet"},
        **ADDRESS,
    }
    reception.listed = [ticket]
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    status, missing = [m["text"] for m in dispatcher.messages]
    assert status == content.text(
        "status_report",
        "en",
        reference="SO-2026-00007",
        status=content.text("statuses.waiting_for_records", "en"),
    )
    assert "SO-2026-00007" in missing
    assert content.text("records.imaging.name", "en") in missing
    assert content.text("records.blood.name", "en") in missing
    assert content.text("records.reports.name", "en") not in missing

    reception.listed = [{**ticket, "records": {"reports": "have"}}]
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    assert dispatcher.messages[-1]["text"] == content.text(
        "missing_records_none", "en", reference="SO-2026-00007"
    )

    reception.listed = [{**ticket, "status": "closed", "closed_at": "2027-01-01T10:00:00Z"}]
    dispatcher = CollectingDispatcher()
    await ActionRequestStatus().run(dispatcher, tracker({}, []), {})
    assert len(dispatcher.messages) == 1

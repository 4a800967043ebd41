"""Handing a case to reception: the full request, or a callback from "talk to a person"."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import reminders
from actions.reception_client import ReceptionUnavailable
from actions.records import records_button
from actions.request_form import FORM, ticket_answers
from actions.services import content, courier, language_of, reception, say, taxonomy, text
from contentlib import Markdown
from contentlib.markdown import to_plain_text
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

FORM_NAME = "request_form"
LABEL_GROUPS = FORM.labels_by_entity()


def idempotency_key(tracker: Tracker, kind: str) -> str:
    """A key from the conversation and the start of this request, stable across retries."""
    if kind == "request":
        marker = next(
            (
                e.get("timestamp")
                for e in reversed(tracker.events)
                if e.get("event") == "active_loop" and e.get("name") == FORM_NAME
            ),
            None,
        )
    else:
        marker = next(
            (e.get("timestamp") for e in reversed(tracker.events) if e.get("event") == "user"), None
        )
    return hashlib.sha256(f"{kind}|{tracker.sender_id}|{marker}".encode()).hexdigest()


def readable(message: str, tracker: Tracker) -> str:
    """Show a button payload such as /inform_residence{"residence":"abroad"} as its label."""
    if not message.startswith("/"):
        return message
    entities: dict[str, Any] = {}
    if "{" in message:
        try:
            entities = json.loads(message[message.index("{") :])
        except ValueError:
            return message
    labels = []
    for name, value in entities.items():
        key = f"{LABEL_GROUPS.get(name, name)}.{value}"
        labels.append(text(tracker, key) if content().has(key) else str(value))
    return ", ".join(labels) or message


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The patient's and the assistant's messages, oldest first, as plain text."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        at = datetime.fromtimestamp(event.get("timestamp") or 0, tz=UTC).isoformat()
        if kind == "user":
            lines.append({"at": at, "sender": "patient", "text": readable(event["text"], tracker)})
        else:
            lines.append({"at": at, "sender": "bot", "text": to_plain_text(event["text"])})
    return lines


def ticket_from(tracker: Tracker, kind: str) -> dict[str, Any]:
    """Build the ticket reception receives from what the conversation knows."""
    cancer_type = taxonomy().get(tracker.get_slot("cancer_type") or "")
    if kind == "request" and cancer_type is None:
        cancer_type = taxonomy().get("not_sure")
    conversation = ConversationId.of_sender(tracker.sender_id)
    return {
        "kind": kind,
        **ticket_answers(tracker),
        "cancer_type": cancer_type.id if cancer_type else None,
        "department": cancer_type.department if cancer_type else None,
        "language": language_of(tracker),
        "channel": conversation.channel.value,
        "channel_address": conversation.address,
        "transcript": transcript(tracker),
    }


def checklist(tracker: Tracker, records: dict[str, str]) -> str | None:
    """The records still to gather, as a Markdown list, or None when all are at hand."""
    missing = [
        text(
            tracker,
            "handoff_checklist_item",
            name=text(tracker, f"records.{item}.name"),
            state=text(tracker, f"record_states.{state}"),
        )
        for item, state in records.items()
        if state != "have"
    ]
    return "\n".join(missing) if missing else None


class ActionHandoff(Action):
    """Send the completed request to reception and tell the patient what happens next."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Save the ticket; confirm its reference, or that it is saved, and the checklist."""
        ticket = ticket_from(tracker, "request")
        handed = await courier().send_ticket(
            tracker.sender_id, ticket, idempotency_key(tracker, "request"), language_of(tracker)
        )
        if handed.state == "refused":
            say(dispatcher, tracker, "handoff_failed")
            return [SlotSet("request_confirmed", None)]
        if handed.reference is None:
            say(dispatcher, tracker, "handoff_saved")
        else:
            department = content().reference(language_of(tracker))["departments"][
                ticket["department"]
            ]
            say(
                dispatcher,
                tracker,
                "handoff_done",
                buttons=[records_button(tracker)],
                reference=handed.reference,
                department=department,
            )
        events: list[EventType] = [
            SlotSet("ticket_reference", handed.reference),
            SlotSet("handed_over", True),
        ]
        items = checklist(tracker, ticket["records"])
        if not items:
            say(dispatcher, tracker, "handoff_all_records")
            return events
        say(dispatcher, tracker, "handoff_checklist", items=Markdown(items))
        say(dispatcher, tracker, "follow_up_offer", buttons=reminders.offer_buttons(tracker))
        return [*events, SlotSet(reminders.SLOT, reminders.OFFERED)]


class ActionRequestCallback(Action):
    """Ask reception to contact the patient, with whatever is known so far."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Create a callback ticket if the patient consented; always give reception's number."""
        if tracker.get_slot("consent") != "given":
            say(dispatcher, tracker, "callback_no_consent")
            return []
        handed = await courier().send_ticket(
            tracker.sender_id,
            ticket_from(tracker, "callback"),
            idempotency_key(tracker, "callback"),
            language_of(tracker),
        )
        if handed.state == "refused":
            say(dispatcher, tracker, "callback_failed")
        elif handed.reference is None:
            say(dispatcher, tracker, "callback_saved")
        else:
            say(dispatcher, tracker, "callback_done", reference=handed.reference)
        return []


class ActionRequestStatus(Action):
    """Tell the patient, in plain words, where their request is."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_request_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Look up this conversation's latest ticket; never one found by reference alone."""
        conversation = ConversationId.of_sender(tracker.sender_id)
        channel, address = conversation.channel.value, conversation.address
        if await courier().tickets_on_their_way(tracker.sender_id):
            say(dispatcher, tracker, "status_on_its_way")
            return []
        try:
            tickets = await reception().conversation_tickets(channel, address)
        except ReceptionUnavailable as error:
            logger.error("status lookup failed: %s", error)
            say(dispatcher, tracker, "status_unavailable")
            return []
        own = [
            t for t in tickets if (t.get("channel"), t.get("channel_address")) == (channel, address)
        ]
        if not own:
            say(dispatcher, tracker, "status_none")
            return []
        latest = own[0]
        status = Markdown(text(tracker, f"statuses.{latest['status']}"))
        say(dispatcher, tracker, "status_report", reference=latest["reference"], status=status)
        if latest.get("closed_at") or latest.get("kind") != "request":  # nothing more to send
            return []
        items = checklist(tracker, latest.get("records") or {})
        if items:
            say(
                dispatcher,
                tracker,
                "missing_records_list",
                reference=latest["reference"],
                items=Markdown(items),
            )
        else:
            say(dispatcher, tracker, "missing_records_none", reference=latest["reference"])
        return []

"""Handing a completed request to reception as a ticket."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.reception_client import ReceptionUnavailable
from actions.request_form import display_phone
from actions.services import content, language_of, reception, say, taxonomy

logger = logging.getLogger(__name__)

FORM_NAME = "request_form"
CHANNELS = ("telegram", "webchat")


def channel_of(sender_id: str) -> tuple[str, str]:
    """Split a conversation id such as "telegram:42" into channel and address."""
    channel, _, address = sender_id.partition(":")
    if channel in CHANNELS and address:
        return channel, address
    return "webchat", sender_id


def idempotency_key(tracker: Tracker) -> str:
    """Derive a key from the conversation and the start of this request, stable across retries."""
    started = next(
        (
            event.get("timestamp")
            for event in reversed(tracker.events)
            if event.get("event") == "active_loop" and event.get("name") == FORM_NAME
        ),
        None,
    )
    return hashlib.sha256(f"{tracker.sender_id}|{started}".encode()).hexdigest()


def readable(text: str, language: str) -> str:
    """Show a button payload such as /inform_residence{"residence":"abroad"} as its label."""
    if not text.startswith("/") or "{" not in text:
        return text
    try:
        entities = json.loads(text[text.index("{") :])
    except ValueError:
        return text
    labels = []
    for name, value in entities.items():
        key = f"{name}s.{value}" if name == "cancer_type" else f"{name}.{value}"
        labels.append(content().text(key, language) if content().has(key) else str(value))
    return ", ".join(labels) or text


def transcript(tracker: Tracker, language: str) -> list[dict[str, str]]:
    """The patient's and the assistant's messages, oldest first."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        timestamp = datetime.fromtimestamp(event.get("timestamp") or 0, tz=UTC).isoformat()
        sender = "patient" if kind == "user" else "bot"
        text = readable(event["text"], language) if kind == "user" else event["text"]
        lines.append({"at": timestamp, "sender": sender, "text": text})
    return lines


def ticket_from(tracker: Tracker) -> dict[str, Any]:
    """Build the ticket reception receives from the conversation's slots."""
    language = language_of(tracker)
    cancer_type = taxonomy().get(tracker.get_slot("cancer_type") or "not_sure")
    channel, address = channel_of(tracker.sender_id)
    return {
        "kind": "request",
        "cancer_type": cancer_type.id if cancer_type else None,
        "department": cancer_type.department if cancer_type else None,
        "residence": tracker.get_slot("residence"),
        "language": language,
        "contact": {"phone": tracker.get_slot("phone")},
        "channel": channel,
        "channel_address": address,
        "transcript": transcript(tracker, language),
    }


class ActionHandoff(Action):
    """Send the completed request to reception and tell the patient what happens next."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Create the ticket and confirm it with its reference."""
        ticket = ticket_from(tracker)
        try:
            created = await reception().create_ticket(ticket, idempotency_key(tracker))
        except ReceptionUnavailable as error:
            logger.error("handoff failed: %s", error)
            say(dispatcher, tracker, "handoff_failed")
            return []
        department = content().reference(language_of(tracker))["departments"][ticket["department"]]
        say(
            dispatcher,
            tracker,
            "handoff_done",
            reference=created["reference"],
            department=department,
            phone=display_phone(ticket["contact"]["phone"]),
        )
        return [SlotSet("ticket_reference", created["reference"])]

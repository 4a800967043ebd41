"""A SQL tracker store that keeps no personal data of a patient who has not consented.

Until the `consent` slot is "given", user messages are stored without their text, entities or
selector output (their intent is kept, so the dialogue still knows what happened), and the
slots named in `personal_slots` are stored empty. The tracker in memory is untouched: only
what reaches the database is redacted.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterable
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

CONSENT_SLOT = "consent"
CONSENT_GIVEN = "given"
REDACTED_PARSE_KEYS = ("text", "entities", "response_selector")


def redact(event: dict[str, Any], personal_slots: Iterable[str]) -> dict[str, Any]:
    """Return a copy of a serialised event without the patient's words or personal slots."""
    redacted = copy.deepcopy(event)
    kind = redacted.get("event")
    if kind == "user":
        redacted["text"] = None
        parse_data = redacted.get("parse_data") or {}
        for key in REDACTED_PARSE_KEYS:
            parse_data.pop(key, None)
        parse_data["entities"] = []
    elif kind == "slot" and redacted.get("name") in set(personal_slots):
        redacted["value"] = None
    return redacted


class ConsentAwareTrackerStore(SQLTrackerStore):
    """Store conversations in SQL, redacting them until the patient consents."""

    def __init__(self, *args: Any, personal_slots: list[str] | None = None, **kwargs: Any):
        """Build the SQL store; `personal_slots` are emptied before consent."""
        super().__init__(*args, **kwargs)
        self.personal_slots = tuple(personal_slots or ())

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, redacted when the patient has not consented."""
        consented = tracker.get_slot(CONSENT_SLOT) == CONSENT_GIVEN
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                if not consented:
                    data = redact(data, self.personal_slots)
                intent = (data.get("parse_data") or {}).get("intent", {}).get("name")
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

"""A SQL tracker store that keeps no personal data of a patient who has not consented.

Until the `consent` slot is "given", user messages are stored without their text, entities or
selector output (their intent is kept, so the dialogue still knows what happened), and the
request form's personal slots (data/request_form.yml) are stored empty. The tracker in memory
is untouched: only what reaches the database is redacted. When the `erase_requested` slot is
set (the patient asked to erase their data), every stored event of the conversation is deleted.

With `idle_days` set, a background thread deletes, every `purge_interval_seconds`, the
conversations in which nothing happened for that many days.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from requestform import declared

logger = logging.getLogger(__name__)

CONSENT_SLOT = "consent"
CONSENT_GIVEN = "given"
ERASE_SLOT = "erase_requested"
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

    def __init__(
        self,
        *args: Any,
        personal_slots: Iterable[str] | None = None,
        idle_days: float | str | None = None,
        purge_interval_seconds: float | str = 3600,
        **kwargs: Any,
    ):
        """Build the SQL store; `personal_slots` (the form's, unless given) are emptied
        before consent.

        With `idle_days`, conversations idle for longer are purged every
        `purge_interval_seconds` (values may come as strings from endpoints.yml).
        """
        super().__init__(*args, **kwargs)
        self.personal_slots = tuple(
            declared().personal_slots if personal_slots is None else personal_slots
        )
        self.idle_days = float(idle_days) if idle_days not in (None, "") else None
        if self.idle_days is not None:
            interval = float(purge_interval_seconds)
            thread = threading.Thread(
                target=self._purge_forever, args=(interval,), name="tracker-retention", daemon=True
            )
            thread.start()

    def _purge_forever(self, interval: float) -> None:
        """Purge idle conversations now, then once per interval, for the process's lifetime."""
        while True:
            try:
                purged = self.purge_idle(time.time() - (self.idle_days or 0) * 86_400)
                if purged:
                    logger.info("purged %d conversations idle for %s days", purged, self.idle_days)
            except Exception as error:
                logger.error("purging idle conversations failed: %s", error.__class__.__name__)
            time.sleep(interval)

    def purge_idle(self, before: float) -> int:
        """Delete every conversation whose latest event is older than a Unix time."""
        events = self.SQLEvent
        idle = (
            sa.select(events.sender_id)
            .group_by(events.sender_id)
            .having(sa.func.max(events.timestamp) < before)
        )
        with self.session_scope() as session:
            senders = [row[0] for row in session.execute(idle)]
            for start in range(0, len(senders), 500):
                batch = senders[start : start + 500]
                session.execute(sa.delete(events).where(events.sender_id.in_(batch)))
            session.commit()
        return len(senders)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, redacted without consent; erase everything when asked to."""
        if tracker.get_slot(ERASE_SLOT):
            self.erase(tracker.sender_id)
            return
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

    def erase(self, sender_id: str) -> None:
        """Delete every event of one conversation."""
        with self.session_scope() as session:
            session.execute(sa.delete(self.SQLEvent).where(self.SQLEvent.sender_id == sender_id))
            session.commit()
        logger.info("a conversation was erased at the patient's request")

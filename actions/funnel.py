"""How far conversations get before the handoff, and what they ask, counted anonymously at
reception.

Each conversation is counted once per step: its start, the consent, the start of the request,
then each question of the form the first time it is asked; and each answer from the FAQ by its
topic. Reception hears the step or topic and the language only, never whose conversation it
was; a count that cannot be made is skipped.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker

from actions.reception_client import ReceptionUnavailable
from actions.services import language_of, reception

logger = logging.getLogger(__name__)

CONVERSATION, CONSENT, REQUEST_STARTED = "conversation", "consent", "request_started"


def asked_before(tracker: Tracker, action: str) -> bool:
    """Tell whether the conversation already ran an action (this turn's is not in the events)."""
    return any(e.get("event") == "action" and e.get("name") == action for e in tracker.events)


async def count(tracker: Tracker, step: str) -> None:
    """Count that this conversation reached a step; the patient is never held up by it."""
    try:
        await reception().count_step(step, language_of(tracker))
    except ReceptionUnavailable as error:
        logger.warning("funnel step not counted: %s", error)


async def count_topic(tracker: Tracker, topic: str) -> None:
    """Count one question answered from an FAQ topic; the patient is never held up by it."""
    try:
        await reception().count_topic(topic, language_of(tracker))
    except ReceptionUnavailable as error:
        logger.warning("topic not counted: %s", error)

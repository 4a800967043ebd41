"""Opening and closing the conversation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import say


class ActionGreet(Action):
    """Welcome the patient."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say the welcome message."""
        say(dispatcher, tracker, "welcome")
        return []


class ActionGoodbye(Action):
    """Say goodbye, with reception's number."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say goodbye."""
        say(dispatcher, tracker, "goodbye")
        return []

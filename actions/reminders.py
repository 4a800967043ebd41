"""Reminders of missing records: offered at the handoff, answered yes or no, stopped at any time.

Reception sends the reminders (reception/follow_ups.py); the conversation only records the
patient's answers, through the courier, so an answer given while reception is down still
arrives, after the request it is about.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import Button, button, courier, latest_intent, menu_buttons, payload, say
from conversation_id import ConversationId

SLOT = "reminders"
OFFERED, WANTED, DECLINED, STOPPED = "offered", "wanted", "declined", "stopped"


def offer_buttons(tracker: Tracker) -> list[Button]:
    """Yes, remind me; or no, thank you."""
    return [
        button(tracker, "follow_up.accept", payload("affirm")),
        button(tracker, "follow_up.decline", payload("deny")),
    ]


async def tell_reception(tracker: Tracker, state: str) -> bool:
    """Hand the patient's answer to reception; False when reception refused it."""
    conversation = ConversationId.of_sender(tracker.sender_id)
    handed = await courier().follow_up(
        tracker.sender_id, conversation.channel.value, conversation.address, state
    )
    return handed.state != "refused"


class ActionAnswerReminderOffer(Action):
    """Record the yes or no to the handoff's offer of reminders."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_answer_reminder_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Tell reception and confirm; a yes or no that answers no offer shows the menu."""
        if tracker.get_slot(SLOT) != OFFERED:
            say(dispatcher, tracker, "menu_prompt", buttons=menu_buttons(tracker))
            return []
        state = WANTED if latest_intent(tracker)[0] == "affirm" else DECLINED
        if not await tell_reception(tracker, state):
            say(dispatcher, tracker, "follow_up_unavailable")
            return []
        say(dispatcher, tracker, "follow_up_wanted" if state == WANTED else "follow_up_declined")
        return [SlotSet(SLOT, state)]


class ActionStopReminders(Action):
    """Stop the reminders, from the button under one of them or in the patient's words."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_stop_reminders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Tell reception to stop them, and confirm."""
        if not await tell_reception(tracker, STOPPED):
            say(dispatcher, tracker, "follow_up_unavailable")
            return []
        say(dispatcher, tracker, "follow_up_stopped")
        return [SlotSet(SLOT, STOPPED)]

"""Withdrawing consent and erasing a patient's data.

Withdrawing consent stops the collection at once: the answers are forgotten and from then on
the tracker store keeps no text (rasa_extensions/tracker_store.py). Erasing, after a
confirmation, also has reception anonymise the conversation's tickets, and makes the
tracker store and the bot forget the conversation.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import reminders
from actions.request_form import FORM
from actions.services import button, courier, payload, say
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

# The tracker store deletes the whole conversation when it sees this slot set.
ERASE_SLOT = "erase_requested"
# The message with which the bot learns to forget its own copy of the conversation.
ERASE_INSTRUCTION = {"erase_conversation": True}


def erasure_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """Erase everything, or keep it."""
    return [
        button(tracker, "erasure.confirm", payload("confirm_erasure")),
        button(tracker, "erasure.cancel", payload("deny")),
    ]


class ActionConfirmErasure(Action):
    """Explain what erasing does, and ask to confirm."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_confirm_erasure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask whether to erase, with a button to confirm and one to keep everything."""
        say(dispatcher, tracker, "erasure_question", buttons=erasure_buttons(tracker))
        return []


class ActionWithdrawConsent(Action):
    """Stop collecting at once, forget the answers, and offer to erase what was sent."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Record the withdrawal, stop any reminders; offer to erase what was sent."""
        if tracker.get_slot(reminders.SLOT) == reminders.WANTED:
            await reminders.tell_reception(tracker, reminders.STOPPED)
        say(dispatcher, tracker, "consent_withdrawn", buttons=erasure_buttons(tracker))
        return [
            SlotSet(reminders.SLOT, None),
            SlotSet("requested_slot", None),
            SlotSet("consent", "declined"),
            *(SlotSet(slot, None) for slot in FORM.slots),
        ]


class ActionEraseData(Action):
    """Anonymise this conversation's tickets at reception, then forget the conversation."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_erase_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Save the erasure for reception, forget the conversation here, and say so."""
        conversation = ConversationId.of_sender(tracker.sender_id)
        handed = await courier().erase(
            tracker.sender_id, conversation.channel.value, conversation.address
        )
        if handed.state == "delivered":
            say(dispatcher, tracker, "erasure_done")
        elif handed.state == "saved":
            say(dispatcher, tracker, "erasure_saved")
        else:
            logger.error("reception refused to erase a conversation's tickets")
            say(dispatcher, tracker, "erasure_failed")
        dispatcher.utter_message(json_message=ERASE_INSTRUCTION)
        return [SlotSet(ERASE_SLOT, True)]

"""Information for every patient, with or without consent: menu, why, how, FAQ, clarifying."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import funnel
from actions.reception_client import ReceptionUnavailable
from actions.services import (
    MENU,
    Button,
    button,
    content,
    in_form,
    language_of,
    latest_intent,
    menu_buttons,
    payload,
    reception,
    say,
)

logger = logging.getLogger(__name__)

FEATURED_TOPICS = (
    "doctor_offended",
    "treatment_delay",
    "in_person",
    "records_deadline",
    "living_abroad",
    "who_receives_opinion",
)
# Intents a patient can be offered as "did you mean…?", with the content key of their label.
OFFERABLE = {
    "ask_why": "menu.why",
    "ask_how": "menu.how",
    "start_request": "menu.start",
    "ask_questions": "menu.questions",
    "request_human": "menu.human",
    "ask_status": "intent_labels.ask_status",
    "ask_privacy": "intent_labels.ask_privacy",
    "ask_help": "intent_labels.ask_help",
    "send_records": "records_link_button",
}
CLARIFY_CHOICES = 2
# Intents whose messages go to the editors' gap report: not understood, or off topic.
GAP_INTENTS = ("nlu_fallback", "out_of_scope")


def topic_button(tracker: Tracker, topic_id: str) -> Button | None:
    """A button asking one FAQ topic, titled with the topic's question."""
    topic = content().topics(language_of(tracker)).get(topic_id)
    return {"title": topic.title, "payload": payload(topic.intent)} if topic else None


async def report_gap(tracker: Tracker) -> None:
    """Tell reception's gap report what the patient asked that we did not understand.

    Only the question, its language and the intent go, never who asked. Nothing goes while
    the request form runs: there, patients type their name and other personal details.
    """
    intent, _ = latest_intent(tracker)
    text = str((tracker.latest_message or {}).get("text") or "")
    if intent not in GAP_INTENTS or in_form(tracker) or not text.strip() or text.startswith("/"):
        return
    try:
        await reception().report_gap(text, language_of(tracker), intent)
    except ReceptionUnavailable as error:
        logger.warning("gap not reported: %s", error)


def next_step_buttons(tracker: Tracker, *keys: str) -> list[Button]:
    """Some menu entries as buttons, or none while the form is running."""
    if in_form(tracker):
        return []
    targets = dict(MENU)
    return [button(tracker, key, targets[key]) for key in keys]


class MessageAction(Action, ABC):
    """Say one message from content, with follow-up buttons outside the form."""

    follow_up: tuple[str, ...] = ()

    @property
    @abstractmethod
    def key(self) -> str:
        """The content key of the message."""

    @property
    @abstractmethod
    def action_name(self) -> str:
        """The action's name in the domain."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say the message."""
        say(dispatcher, tracker, self.key, buttons=next_step_buttons(tracker, *self.follow_up))
        return []


class ActionShowMenu(Action):
    """Show what the assistant can do."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_show_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Show the menu."""
        say(dispatcher, tracker, "menu_prompt", buttons=menu_buttons(tracker))
        return []


class ActionExplainWhy(MessageAction):
    """Explain when a second opinion helps, and that it is the patient's right."""

    action_name, key = "action_explain_why", "why"
    follow_up = ("menu.how", "menu.start", "menu.questions")


class ActionExplainHow(Action):
    """Explain the steps of a second opinion, and how to prepare the visit."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_explain_how"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Explain the process, then the tips for the visit."""
        say(dispatcher, tracker, "how")
        buttons = next_step_buttons(tracker, "menu.start", "menu.questions", "menu.human")
        say(dispatcher, tracker, "how_tips", buttons=buttons)
        return []


class ActionListQuestions(Action):
    """Invite questions, with the ones patients ask most."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_list_questions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Show a few common questions as buttons."""
        buttons = [b for topic in FEATURED_TOPICS if (b := topic_button(tracker, topic))]
        say(dispatcher, tracker, "questions_intro", buttons=buttons)
        return []


class ActionAnswerFaq(Action):
    """Answer the FAQ topic the patient asked about."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send the topic's answer, with related topics outside the form."""
        intent, _ = latest_intent(tracker)
        topics = content().topics(language_of(tracker))
        topic = topics.get(intent.removeprefix("faq_"))
        if topic is None:
            say(dispatcher, tracker, "clarify_again", buttons=menu_buttons(tracker))
            return []
        related = (
            []
            if in_form(tracker)
            else [b for related_id in topic.related if (b := topic_button(tracker, related_id))]
        )
        dispatcher.utter_message(
            text=content().answer(topic.id, language_of(tracker)), buttons=related
        )
        await funnel.count_topic(tracker, topic.id)
        return []


class ActionClarify(Action):
    """Ask "did you mean…?" with the two best guesses; after a second miss, offer the menu."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_clarify"

    @staticmethod
    def missed_before(tracker: Tracker) -> bool:
        """Tell whether the patient's previous message was not understood either."""
        users = [e for e in tracker.events if e.get("event") == "user"]
        if len(users) < 2:
            return False
        previous = (users[-2].get("parse_data") or {}).get("intent") or {}
        return previous.get("name") == "nlu_fallback"

    @staticmethod
    def guesses(tracker: Tracker) -> list[Button]:
        """Buttons for the best intents the patient may have meant."""
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        buttons: list[Button] = []
        for candidate in ranking:
            name = str(candidate.get("name") or "")
            if name.startswith("faq_"):
                found = topic_button(tracker, name.removeprefix("faq_"))
            elif name in OFFERABLE:
                found = button(tracker, OFFERABLE[name], payload(name))
            else:
                found = None
            if found:
                buttons.append(found)
            if len(buttons) == CLARIFY_CHOICES:
                break
        return buttons

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Offer the best guesses, or the menu and reception's number."""
        await report_gap(tracker)
        guesses = self.guesses(tracker)
        if self.missed_before(tracker) or not guesses:
            say(
                dispatcher,
                tracker,
                "clarify_again",
                buttons=[] if in_form(tracker) else menu_buttons(tracker),
            )
            return []
        other = [] if in_form(tracker) else [button(tracker, "clarify_other", payload("show_menu"))]
        say(dispatcher, tracker, "clarify", buttons=guesses + other)
        return []


class ActionOutOfScope(MessageAction):
    """Answer chit-chat briefly and kindly, and tell the editors what was asked."""

    action_name, key = "action_out_of_scope", "out_of_scope"
    follow_up = ("menu.why", "menu.how", "menu.start")

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say the message, then report the question to the gap report."""
        events = await super().run(dispatcher, tracker, domain)
        await report_gap(tracker)
        return events


class ActionDeclineMedicalAdvice(MessageAction):
    """Decline medical advice kindly and point to the doctor or reception."""

    action_name, key = "action_decline_medical_advice", "medical_advice"
    follow_up = ("menu.human",)

"""Opening, closing and steering the conversation: welcome, consent, help, language."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import funnel
from actions.request_form import FORM, unfinished_request
from actions.services import (
    button,
    content,
    entity,
    in_form,
    menu_buttons,
    payload,
    say,
)

NOT_CARRIED_OVER = ("requested_slot", "session_started_metadata")


def consent_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """Agree or decline."""
    return [
        button(tracker, "consent.agree", payload("affirm")),
        button(tracker, "consent.decline", payload("deny")),
    ]


def resume_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """Continue the unfinished request, or start over."""
    return [
        button(tracker, "resume.continue", payload("start_request")),
        button(tracker, "resume.restart", "/restart"),
    ]


def language_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """One button per language the content exists in."""
    return [
        button(tracker, f"languages.{code}", payload("set_language", language=code))
        for code in sorted(content().languages)
    ]


def ask_for_consent(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Show the privacy notice and ask for consent."""
    say(dispatcher, tracker, "privacy_notice")
    say(dispatcher, tracker, "consent_question", buttons=consent_buttons(tracker))


def session_just_started(tracker: Tracker) -> bool:
    """Tell whether a new session began with the patient's latest message."""
    users = [i for i, event in enumerate(tracker.events) if event.get("event") == "user"]
    if not users:
        return False
    for event in reversed(tracker.events[: users[-1]]):
        if event.get("event") == "user":
            return False
        if event.get("event") == "session_started":
            return True
    return False


class ActionSessionStart(Action):
    """Start a session: keep the patient's answers, and offer to continue a request."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Carry the slots over, set the language on first contact, offer to resume."""
        events: list[EventType] = [SessionStarted()]
        events += [
            SlotSet(key, value)
            for key, value in tracker.slots.items()
            if value is not None and key not in NOT_CARRIED_OVER
        ]
        metadata = tracker.get_slot("session_started_metadata") or {}
        chosen = any(
            e.get("event") == "slot" and e.get("name") == "language" for e in tracker.events
        )
        if metadata.get("language") and not chosen:
            language = content().language_or_default(metadata["language"])
            events.append(SlotSet("language", language))
        if unfinished_request(tracker):
            say(dispatcher, tracker, "resume_offer", buttons=resume_buttons(tracker))
        if not any(e.get("event") == "session_started" for e in tracker.events):
            await funnel.count(tracker, funnel.CONVERSATION)
        return [*events, ActionExecuted("action_listen")]


class ActionWelcome(Action):
    """Greet the patient: first time with the privacy notice, later with the menu."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Welcome a new patient and ask for consent, or welcome a returning one."""
        consent = tracker.get_slot("consent")
        if in_form(tracker):
            say(dispatcher, tracker, "greet_in_form")
        elif consent is None:
            choices = language_buttons(tracker) if len(content().languages) > 1 else []
            say(dispatcher, tracker, "welcome", buttons=choices)
            ask_for_consent(dispatcher, tracker)
        elif unfinished_request(tracker):
            if not session_just_started(tracker):
                say(dispatcher, tracker, "resume_offer", buttons=resume_buttons(tracker))
        else:
            say(dispatcher, tracker, "welcome_back", buttons=menu_buttons(tracker))
        return []


class ActionAskConsent(Action):
    """Ask for consent before a request can start."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Explain why consent is needed, then ask for it."""
        say(dispatcher, tracker, "consent_needed")
        ask_for_consent(dispatcher, tracker)
        return []


class ActionRecordConsent(Action):
    """Record the patient's consent."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Thank the patient and remember their consent."""
        say(dispatcher, tracker, "consent_recorded")
        if tracker.get_slot("consent") != "given":
            await funnel.count(tracker, funnel.CONSENT)
        return [SlotSet("consent", "given")]


class ActionRecordDecline(Action):
    """Record that the patient declines, and forget any answers already given."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_record_decline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Explain what remains possible without consent."""
        say(dispatcher, tracker, "consent_declined", buttons=menu_buttons(tracker))
        return [SlotSet("consent", "declined"), *(SlotSet(slot, None) for slot in FORM.slots)]


class ActionPrivacyNotice(Action):
    """Show what is kept, why, how long and who sees it."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_privacy_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Show the notice, and ask for consent if it has not been given."""
        if tracker.get_slot("consent") == "given" or in_form(tracker):
            say(dispatcher, tracker, "privacy_notice")
        else:
            ask_for_consent(dispatcher, tracker)
        return []


class ActionHelp(Action):
    """Explain what the assistant can do."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """List what the assistant does and its commands."""
        say(dispatcher, tracker, "help", buttons=[] if in_form(tracker) else menu_buttons(tracker))
        return []


class ActionChooseLanguage(Action):
    """Switch language, or offer the languages there are."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_choose_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Set the language the patient named, or ask which one they want."""
        wanted = entity(tracker, "language")
        if wanted in content().languages:
            tracker.slots["language"] = wanted
            say(dispatcher, tracker, "language_set")
            return [SlotSet("language", wanted)]
        say(dispatcher, tracker, "language_question", buttons=language_buttons(tracker))
        return []


class ActionGoodbye(Action):
    """Say goodbye, with reception's number."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say goodbye."""
        say(dispatcher, tracker, "goodbye")
        return []


class ActionYouAreWelcome(Action):
    """Answer thanks."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_you_are_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say you're welcome."""
        say(dispatcher, tracker, "you_are_welcome")
        return []


class ActionDefaultFallback(Action):
    """When no rule fits, say so kindly and keep the conversation where it was."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Offer the menu and reception, and forget the message that was not understood."""
        buttons = [] if in_form(tracker) else menu_buttons(tracker)
        say(dispatcher, tracker, "clarify_again", buttons=buttons)
        return [UserUtteranceReverted()]

"""The request form: what the patient is asked, and how each answer is checked."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import button, say, settings, taxonomy

RESIDENCES = ("belgium", "abroad")


def intent_payload(intent: str, **entities: str) -> str:
    """A button payload that Rasa reads as `intent` with these entities."""
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}"


def cancer_type_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """One button per cancer-type group, plus "not sure"."""
    return [
        button(
            tracker,
            f"cancer_types.{type_id}",
            intent_payload("inform_cancer_type", cancer_type=type_id),
        )
        for type_id in taxonomy().ids
    ]


def parse_phone(text: str, region: str) -> str | None:
    """Find a valid phone number in the text and return it in E.164 form."""
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def display_phone(e164: str) -> str:
    """Show a stored E.164 number the way people write it: +32 470 12 34 56."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class ActionAskCancerType(Action):
    """Ask which cancer the request is about."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_cancer_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask for the cancer type, with a button per group."""
        say(dispatcher, tracker, "ask_cancer_type", buttons=cancer_type_buttons(tracker))
        return []


class ActionAskResidence(Action):
    """Ask whether the patient lives in Belgium or abroad."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_residence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask for the residence, with one button per answer."""
        buttons = [
            button(
                tracker, f"residence.{place}", intent_payload("inform_residence", residence=place)
            )
            for place in RESIDENCES
        ]
        say(dispatcher, tracker, "ask_residence", buttons=buttons)
        return []


class ActionAskPhone(Action):
    """Ask for the number reception should call."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask for the phone number."""
        say(dispatcher, tracker, "ask_phone")
        return []


class ValidateRequestForm(FormValidationAction):
    """Check each answer of the request form before it is kept."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "validate_request_form"

    def validate_cancer_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a cancer type the taxonomy knows, from an id or the patient's own words."""
        found = taxonomy().match(str(value or ""))
        if found is None:
            say(dispatcher, tracker, "cancer_type_not_recognised")
            return {"cancer_type": None}
        return {"cancer_type": found.id}

    def validate_residence(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep "belgium" or "abroad"."""
        return {"residence": value if value in RESIDENCES else None}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a valid phone number, in E.164 form."""
        phone = parse_phone(str(value or ""), settings().phone_region)
        if phone is None:
            say(dispatcher, tracker, "phone_not_valid")
        return {"phone": phone}

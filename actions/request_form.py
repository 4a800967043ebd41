"""The request form: what the patient is asked, how answers are read and checked, and changes."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import (
    Button,
    button,
    entities,
    entity,
    latest_intent,
    payload,
    say,
    settings,
    taxonomy,
    text,
)

RECORD_ITEMS = ("reports", "imaging", "pathology", "blood")
RECORD_SLOTS = tuple(f"records_{item}" for item in RECORD_ITEMS)
RECORD_STATES = ("have", "requested", "not_yet")
CARE_STAGES = ("just_diagnosed", "in_treatment", "recurrence", "after_treatment")
RESIDENCES = ("belgium", "abroad")
REQUEST_SLOTS = (
    "cancer_type",
    "care_stage",
    "residence",
    *RECORD_SLOTS,
    "contact_name",
    "phone",
    "email",
    "preferred_time",
    "request_confirmed",
)
FIELDS = {
    "cancer_type": ("cancer_type",),
    "care_stage": ("care_stage",),
    "residence": ("residence",),
    "records": RECORD_SLOTS,
    "name": ("contact_name",),
    "phone": ("phone",),
    "email": ("email",),
    "preferred_time": ("preferred_time",),
}
EMAIL_SKIPPED = "skipped"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# How patients introduce their name, in English, French and Dutch; what follows is the name.
NAME_PREFIX = re.compile(
    r"^\s*(my name is|my name's|i am|i'm|im|this is|call me|name:?"
    r"|je m['\u2019]appelle|je m appelle|mon nom est|moi c['\u2019]est|je suis|nom\s*:?"
    r"|ik heet|mijn naam is|ik ben|dit is|noem me|naam\s*:?)\s+",
    re.I,
)
# Intents that interrupt the form instead of answering its question.
DIGRESSIONS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "show_menu",
        "ask_why",
        "ask_how",
        "ask_questions",
        "request_human",
        "ask_status",
        "ask_medical_advice",
        "out_of_scope",
        "ask_help",
        "ask_privacy",
        "set_language",
        "go_back",
        "change_answer",
        "start_request",
        "restart",
        "request_erasure",
        "withdraw_consent",
    }
)
DIGRESSION_CONFIDENCE = 0.6


def is_digression(tracker: Tracker) -> bool:
    """Tell whether the latest message steps out of the form (a question, a command…)."""
    intent, confidence = latest_intent(tracker)
    return (intent in DIGRESSIONS or intent.startswith("faq_")) and (
        confidence >= DIGRESSION_CONFIDENCE
    )


def unfinished_request(tracker: Tracker) -> bool:
    """Tell whether the patient started a request and has not sent it yet."""
    return (
        tracker.get_slot("consent") == "given"
        and not tracker.get_slot("ticket_reference")
        and not tracker.get_slot("handed_over")
        and any(tracker.get_slot(slot) is not None for slot in REQUEST_SLOTS)
    )


def parse_phone(value: str, region: str) -> str | None:
    """Find a valid phone number in the text and return it in E.164 form."""
    for match in phonenumbers.PhoneNumberMatcher(value, region):
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def display_phone(e164: str) -> str:
    """Show a stored E.164 number the way people write it: +32 470 12 34 56."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def record_buttons(tracker: Tracker) -> list[Button]:
    """Have it, asked for it, not yet."""
    return [
        button(
            tracker, f"record_states.{state}", payload("inform_record_status", record_status=state)
        )
        for state in RECORD_STATES
    ]


def choice_buttons(
    tracker: Tracker, group: str, intent: str, slot: str, values: tuple[str, ...]
) -> list[Button]:
    """One button per allowed value of a categorical answer."""
    return [
        button(tracker, f"{group}.{value}", payload(intent, **{slot: value})) for value in values
    ]


def cancer_type_buttons(tracker: Tracker) -> list[Button]:
    """One button per cancer-type group, plus "not sure"."""
    return [
        button(
            tracker, f"cancer_types.{type_id}", payload("inform_cancer_type", cancer_type=type_id)
        )
        for type_id in taxonomy().ids
    ]


def summary_buttons(tracker: Tracker) -> list[Button]:
    """Send the request, or change one of its answers."""
    return [
        button(tracker, "confirm.send", payload("affirm")),
        *(
            button(tracker, f"change.{field}", payload("change_answer", field=field))
            for field in FIELDS
        ),
    ]


def label(tracker: Tracker, group: str, value: Any) -> str:
    """The patient-facing name of a stored value."""
    return text(tracker, f"{group}.{value}")


def summary_variables(tracker: Tracker) -> dict[str, str]:
    """Every answer of the request, as the patient should read it back."""
    records = "; ".join(
        text(
            tracker,
            "summary_record_line",
            name=text(tracker, f"records.{item}.name"),
            state=label(tracker, "record_states", tracker.get_slot(f"records_{item}")),
        )
        for item in RECORD_ITEMS
    )
    email = tracker.get_slot("email")
    return {
        "cancer_type": label(tracker, "cancer_types", tracker.get_slot("cancer_type")),
        "care_stage": label(tracker, "care_stages", tracker.get_slot("care_stage")),
        "residence": label(tracker, "residences", tracker.get_slot("residence")),
        "records_list": records,
        "name": str(tracker.get_slot("contact_name")),
        "phone": display_phone(str(tracker.get_slot("phone"))),
        "email": email if email and email != EMAIL_SKIPPED else text(tracker, "summary_no_email"),
        "preferred_time": str(tracker.get_slot("preferred_time")),
    }


class AskAction(Action, ABC):
    """Ask one question of the form, with its buttons."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return f"action_ask_{self.slot}"

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Send the question."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask the question."""
        self.ask(dispatcher, tracker)
        return []


class ActionAskCancerType(AskAction):
    """Ask which cancer the request is about."""

    slot = "cancer_type"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the cancer type, with a button per group."""
        say(dispatcher, tracker, "ask_cancer_type", buttons=cancer_type_buttons(tracker))


class ActionAskCareStage(AskAction):
    """Ask where the patient is in their care."""

    slot = "care_stage"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the stage of care."""
        buttons = choice_buttons(
            tracker, "care_stages", "inform_care_stage", "care_stage", CARE_STAGES
        )
        say(dispatcher, tracker, "ask_care_stage", buttons=buttons)


class ActionAskResidence(AskAction):
    """Ask whether the patient lives in Belgium or abroad."""

    slot = "residence"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the residence."""
        buttons = choice_buttons(tracker, "residences", "inform_residence", "residence", RESIDENCES)
        say(dispatcher, tracker, "ask_residence", buttons=buttons)


class AskRecordAction(AskAction, ABC):
    """Ask whether the patient has one kind of record."""

    @property
    @abstractmethod
    def item(self) -> str:
        """The record item this action asks about."""

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Introduce the checklist on its first item, then ask about this one."""
        if self.item == RECORD_ITEMS[0]:
            say(dispatcher, tracker, "records_intro")
        say(
            dispatcher,
            tracker,
            "ask_record",
            buttons=record_buttons(tracker),
            name=text(tracker, f"records.{self.item}.name"),
            contains=text(tracker, f"records.{self.item}.contains"),
        )


class ActionAskRecordsReports(AskRecordAction):
    """Ask about hospital and consultation reports."""

    slot, item = "records_reports", "reports"


class ActionAskRecordsImaging(AskRecordAction):
    """Ask about imaging."""

    slot, item = "records_imaging", "imaging"


class ActionAskRecordsPathology(AskRecordAction):
    """Ask about pathology reports."""

    slot, item = "records_pathology", "pathology"


class ActionAskRecordsBlood(AskRecordAction):
    """Ask about blood results."""

    slot, item = "records_blood", "blood"


class ActionAskContactName(AskAction):
    """Ask for the patient's name."""

    slot = "contact_name"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the name."""
        say(dispatcher, tracker, "ask_contact_name")


class ActionAskPhone(AskAction):
    """Ask for the number reception should call."""

    slot = "phone"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the phone number."""
        say(dispatcher, tracker, "ask_phone")


class ActionAskEmail(AskAction):
    """Ask for an optional e-mail address."""

    slot = "email"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the e-mail address, with a button to skip it."""
        say(
            dispatcher,
            tracker,
            "ask_email",
            buttons=[button(tracker, "email_skip", payload("skip"))],
        )


class ActionAskPreferredTime(AskAction):
    """Ask when reception can best call."""

    slot = "preferred_time"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Ask for the preferred time."""
        say(dispatcher, tracker, "ask_preferred_time")


class ActionAskRequestConfirmed(AskAction):
    """Read the request back and ask to send it."""

    slot = "request_confirmed"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Show the summary, with buttons to send it or change an answer."""
        say(
            dispatcher,
            tracker,
            "summary",
            buttons=summary_buttons(tracker),
            **summary_variables(tracker),
        )


class ValidateRequestForm(FormValidationAction):
    """Read each answer of the request form from the patient's message, and check it."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "validate_request_form"

    @staticmethod
    def answer_for(tracker: Tracker, slot: str) -> str | None:
        """The text of the latest message if it answers `slot`; None if it steps out of the form."""
        if tracker.get_slot("requested_slot") != slot or is_digression(tracker):
            return None
        return str((tracker.latest_message or {}).get("text") or "")

    def _extract_choice(self, tracker: Tracker, slot: str, entity_name: str) -> dict[str, Any]:
        """Take the entity the NLU found, or mark the answer as not understood."""
        if self.answer_for(tracker, slot) is None:
            return {}
        return {slot: entity(tracker, entity_name) or ""}

    async def extract_cancer_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the first cancer type the NLU found that the taxonomy knows, or the words."""
        answer = self.answer_for(tracker, "cancer_type")
        if answer is None:
            return {}
        found = (taxonomy().match(value) for value in entities(tracker, "cancer_type"))
        return {"cancer_type": next((t.id for t in found if t), answer)}

    async def extract_care_stage(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the stage of care."""
        return self._extract_choice(tracker, "care_stage", "care_stage")

    async def extract_residence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the residence."""
        return self._extract_choice(tracker, "residence", "residence")

    def _extract_record(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Take a record's state; a plain yes means "have it", a plain no "not yet"."""
        if self.answer_for(tracker, slot) is None:
            return {}
        state = entity(tracker, "record_status")
        intent, _ = latest_intent(tracker)
        if state is None and intent in ("affirm", "deny"):
            state = "have" if intent == "affirm" else "not_yet"
        return {slot: state or ""}

    async def extract_records_reports(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the state of the reports."""
        return self._extract_record(tracker, "records_reports")

    async def extract_records_imaging(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the state of the imaging."""
        return self._extract_record(tracker, "records_imaging")

    async def extract_records_pathology(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the state of the pathology reports."""
        return self._extract_record(tracker, "records_pathology")

    async def extract_records_blood(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the state of the blood results."""
        return self._extract_record(tracker, "records_blood")

    async def extract_contact_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the name, without "my name is"."""
        answer = self.answer_for(tracker, "contact_name")
        if answer is None:
            return {}
        return {"contact_name": NAME_PREFIX.sub("", answer).strip(" .!")}

    async def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the message as a phone number, checked by its validator."""
        answer = self.answer_for(tracker, "phone")
        return {} if answer is None else {"phone": answer}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take an e-mail address, or note that the patient skipped it."""
        answer = self.answer_for(tracker, "email")
        if answer is None:
            return {}
        intent, _ = latest_intent(tracker)
        return {"email": EMAIL_SKIPPED if intent in ("skip", "deny") else answer}

    async def extract_preferred_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the preferred time as the patient wrote it."""
        answer = self.answer_for(tracker, "preferred_time")
        return {} if answer is None else {"preferred_time": answer.strip()}

    async def extract_request_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A yes sends the request; anything else asks again."""
        if self.answer_for(tracker, "request_confirmed") is None:
            return {}
        intent, _ = latest_intent(tracker)
        return {"request_confirmed": intent == "affirm"}

    def validate_cancer_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a cancer type the taxonomy knows, from an id or the patient's own words."""
        found = taxonomy().match(str(value or ""))
        if found is None:
            say(dispatcher, tracker, "cancer_type_not_recognised")
            return {"cancer_type": None}
        return {"cancer_type": found.id}

    def validate_care_stage(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep one of the four stages of care."""
        if value not in CARE_STAGES:
            say(dispatcher, tracker, "care_stage_not_recognised")
            return {"care_stage": None}
        return {"care_stage": value}

    def validate_residence(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep "belgium" or "abroad"; tell patients abroad that records are screened first."""
        if value not in RESIDENCES:
            say(dispatcher, tracker, "residence_not_recognised")
            return {"residence": None}
        if value == "abroad":
            say(dispatcher, tracker, "residence_abroad_note")
        return {"residence": value}

    def _validate_record(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Keep a record's state; for "not yet", explain how to get it."""
        if value not in RECORD_STATES:
            say(dispatcher, tracker, "record_not_recognised")
            return {slot: None}
        if value == "not_yet":
            item = slot.removeprefix("records_")
            say(
                dispatcher,
                tracker,
                "record_guidance",
                how_to_get=text(tracker, f"records.{item}.how_to_get"),
            )
            if not any(
                tracker.get_slot(other) == "not_yet" for other in RECORD_SLOTS if other != slot
            ):
                say(dispatcher, tracker, "records_rights")
        return {slot: value}

    def validate_records_reports(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the reports' state."""
        return self._validate_record("records_reports", value, dispatcher, tracker)

    def validate_records_imaging(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the imaging's state."""
        return self._validate_record("records_imaging", value, dispatcher, tracker)

    def validate_records_pathology(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the pathology reports' state."""
        return self._validate_record("records_pathology", value, dispatcher, tracker)

    def validate_records_blood(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the blood results' state."""
        return self._validate_record("records_blood", value, dispatcher, tracker)

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a name that has letters and a sensible length."""
        name = str(value or "").strip()
        if (
            not re.search(r"[^\W\d_]", name)
            or len(name) > 100
            or parse_phone(name, settings().phone_region)
        ):
            say(dispatcher, tracker, "name_not_valid")
            return {"contact_name": None}
        return {"contact_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a valid phone number, in E.164 form."""
        phone = parse_phone(str(value or ""), settings().phone_region)
        if phone is None:
            say(dispatcher, tracker, "phone_not_valid")
        return {"phone": phone}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a well-formed address, or the patient's choice to skip it."""
        if value == EMAIL_SKIPPED:
            return {"email": EMAIL_SKIPPED}
        found = EMAIL.search(str(value or ""))
        if found is None:
            say(dispatcher, tracker, "email_not_valid")
            return {"email": None}
        return {"email": found.group(0).lower()}

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep a short description of when to call."""
        when = str(value or "").strip()
        if not when or len(when) > 120:
            say(dispatcher, tracker, "time_not_valid")
            return {"preferred_time": None}
        return {"preferred_time": when}

    def validate_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Send only on a clear yes."""
        if value is not True:
            say(dispatcher, tracker, "confirm_not_recognised")
            return {"request_confirmed": None}
        return {"request_confirmed": True}


class ActionGoBack(Action):
    """Clear the previous answer so the form asks it again."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_go_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Forget the answer given just before the current question."""
        requested = tracker.get_slot("requested_slot")
        position = REQUEST_SLOTS.index(requested) if requested in REQUEST_SLOTS else 0
        if position == 0:
            say(dispatcher, tracker, "go_back_first")
            return []
        return [SlotSet(REQUEST_SLOTS[position - 1], None)]


class ActionChangeAnswer(Action):
    """Clear the answer the patient wants to change, so the form asks it again."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Forget the named answer (and the confirmation); without one, say how to choose."""
        slots = FIELDS.get(entity(tracker, "field") or "")
        if slots is None:
            say(dispatcher, tracker, "change_which")
            return [SlotSet("request_confirmed", None)]
        return [*(SlotSet(slot, None) for slot in slots), SlotSet("request_confirmed", None)]

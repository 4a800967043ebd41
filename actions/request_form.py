"""The request form: how each kind of question is asked, read, checked and read back.

The questions themselves are declared in data/request_form.yml (see `requestform`): their
slots, content keys, choices and where the ticket takes them. This module holds one class per
kind of question, the ask action of each slot, the form's validation action, and the steps
that go back or change an answer.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import funnel
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
from contentlib import Markdown
from requestform import Question, declared

FORM = declared()

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
        and any(tracker.get_slot(slot) is not None for slot in FORM.slots)
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


def label(tracker: Tracker, group: str, value: Any) -> str:
    """The patient-facing name of a stored value."""
    return text(tracker, f"{group}.{value}")


class Kind:
    """How one kind of question is asked, read, checked and shown: free text by default."""

    def ask(self, question: Question, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Send the question (after its introduction, if it has one), with its buttons."""
        if question.before:
            say(dispatcher, tracker, question.before)
        say(
            dispatcher,
            tracker,
            question.ask,
            buttons=self.buttons(question, tracker),
            **self.ask_variables(question, tracker),
        )

    def buttons(self, question: Question, tracker: Tracker) -> list[Button]:
        """The question's buttons: a skip button if the answer may be skipped."""
        return [button(tracker, question.skip, payload("skip"))] if question.skip else []

    def ask_variables(self, question: Question, tracker: Tracker) -> dict[str, Any]:
        """What the question's message says besides its own words."""
        return {}

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """Read the answer from the patient's message, which answers this question."""
        return answer.strip()

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """The answer as it is kept, or None if it is not acceptable."""
        answer = str(value or "").strip()
        if not answer or len(answer) > (question.max_length or len(answer)):
            return None
        return answer

    def note(
        self, question: Question, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> None:
        """Say what the declaration adds after this answer, if anything."""
        if key := question.notes.get(value):
            say(dispatcher, tracker, key, **self.note_variables(question, tracker))

    def note_variables(self, question: Question, tracker: Tracker) -> dict[str, Any]:
        """What the note after an answer says besides its own words."""
        return {}

    def shown(self, question: Question, value: Any, tracker: Tracker) -> str:
        """The answer as the summary reads it back."""
        return str(value)

    def ticket_value(self, question: Question, value: Any) -> Any:
        """The answer as reception receives it."""
        return value


class Choice(Kind):
    """One of a few values, with a button each."""

    def choices(self, question: Question) -> tuple[str, ...]:
        """The values the patient can choose from."""
        return question.values

    def buttons(self, question: Question, tracker: Tracker) -> list[Button]:
        """One button per allowed value."""
        return [
            button(
                tracker,
                f"{question.labels}.{value}",
                payload(question.intent or "", **{question.entity or question.slot: value}),
            )
            for value in self.choices(question)
        ]

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """The entity the NLU found, or "" (not understood)."""
        return entity(tracker, question.entity or "") or ""

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """One of the declared values."""
        return value if value in question.values else None

    def shown(self, question: Question, value: Any, tracker: Tracker) -> str:
        """The value's name."""
        return label(tracker, question.labels or "", value)


class CancerType(Choice):
    """Which cancer: a button per group of the taxonomy, or the patient's own words."""

    def choices(self, question: Question) -> tuple[str, ...]:
        """Every cancer-type group of the taxonomy, "not sure" included."""
        return tuple(taxonomy().ids)

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """The first cancer type the NLU found that the taxonomy knows, or the words."""
        found = (taxonomy().match(value) for value in entities(tracker, question.entity or ""))
        return next((t.id for t in found if t), answer)

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """A cancer type the taxonomy knows, from an id or the patient's own words."""
        found = taxonomy().match(str(value or ""))
        return None if found is None else found.id


class Record(Choice):
    """One item of the records checklist: have it, asked for it, not yet."""

    def ask_variables(self, question: Question, tracker: Tracker) -> dict[str, Any]:
        """The item's name and what it contains."""
        return {
            "name": text(tracker, f"records.{question.item}.name"),
            "contains": text(tracker, f"records.{question.item}.contains"),
        }

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """The state the NLU found; a plain yes means "have it", a plain no "not yet"."""
        state = entity(tracker, question.entity or "")
        intent, _ = latest_intent(tracker)
        if state is None and intent in ("affirm", "deny"):
            state = "have" if intent == "affirm" else "not_yet"
        return state or ""

    def note(
        self, question: Question, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> None:
        """After the first "not yet", explain the patient's right to a copy of their records."""
        super().note(question, value, dispatcher, tracker)
        if value == "not_yet" and not any(
            tracker.get_slot(other.slot) == "not_yet"
            for other in FORM.of_kind("record")
            if other.slot != question.slot
        ):
            say(dispatcher, tracker, "records_rights")

    def note_variables(self, question: Question, tracker: Tracker) -> dict[str, Any]:
        """How to get the item."""
        return {"how_to_get": text(tracker, f"records.{question.item}.how_to_get")}

    def shown(self, question: Question, value: Any, tracker: Tracker) -> str:
        """The item's name and its state."""
        return text(
            tracker,
            "summary_record_line",
            name=text(tracker, f"records.{question.item}.name"),
            state=label(tracker, question.labels or "", value),
        )


class Name(Kind):
    """The patient's name, without "my name is"."""

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """The name, as the patient wrote it after any introduction."""
        return NAME_PREFIX.sub("", answer).strip(" .!")

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """A name that has letters, a sensible length, and is not a phone number."""
        name = super().check(question, value, tracker)
        if name is None or not re.search(r"[^\W\d_]", name):
            return None
        return None if parse_phone(name, settings().phone_region) else name


class Phone(Kind):
    """The number reception should call, kept in E.164 form."""

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """A valid phone number."""
        return parse_phone(str(value or ""), settings().phone_region)

    def shown(self, question: Question, value: Any, tracker: Tracker) -> str:
        """The number the way people write it."""
        return display_phone(str(value))


class Email(Kind):
    """An e-mail address, which the patient may skip."""

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """The address, or a note that the patient skipped it."""
        intent, _ = latest_intent(tracker)
        return EMAIL_SKIPPED if intent in ("skip", "deny") else answer

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """A well-formed address, lower-cased, or the choice to skip it."""
        if value == EMAIL_SKIPPED:
            return EMAIL_SKIPPED
        found = EMAIL.search(str(value or ""))
        return None if found is None else found.group(0).lower()

    def shown(self, question: Question, value: Any, tracker: Tracker) -> str:
        """The address, or that none was given."""
        return text(tracker, "summary_no_email") if value == EMAIL_SKIPPED else str(value)

    def ticket_value(self, question: Question, value: Any) -> Any:
        """The address; nothing if the patient skipped it."""
        return None if value == EMAIL_SKIPPED else value


class Confirm(Kind):
    """The request read back: a yes sends it, a change button clears one answer."""

    def buttons(self, question: Question, tracker: Tracker) -> list[Button]:
        """Send the request, or change one of its answers."""
        return [
            button(tracker, "confirm.send", payload("affirm")),
            *(
                button(tracker, f"change.{field}", payload("change_answer", field=field))
                for field in FORM.fields
            ),
        ]

    def ask_variables(self, question: Question, tracker: Tracker) -> dict[str, Any]:
        """Every answer of the request, one line each."""
        return {"answers": Markdown("\n".join(f"- {line}" for line in summary_lines(tracker)))}

    def extract(self, question: Question, answer: str, tracker: Tracker) -> Any:
        """A yes sends the request; anything else asks again."""
        intent, _ = latest_intent(tracker)
        return intent == "affirm"

    def check(self, question: Question, value: Any, tracker: Tracker) -> Any:
        """Send only on a clear yes."""
        return True if value is True else None


KINDS: dict[str, Kind] = {
    "free_text": Kind(),
    "cancer_type": CancerType(),
    "choice": Choice(),
    "record": Record(),
    "name": Name(),
    "phone": Phone(),
    "email": Email(),
    "confirm": Confirm(),
}


def kind_of(question: Question) -> Kind:
    """The code that asks, reads and checks a question."""
    return KINDS[question.kind]


def summary_lines(tracker: Tracker) -> list[str]:
    """One line per answer, in the order of the form, as the patient should read it back."""
    lines = []
    for field, slots in FORM.fields.items():
        shown = [
            kind_of(question).shown(question, tracker.get_slot(question.slot), tracker)
            for question in map(FORM.question, slots)
        ]
        lines.append(text(tracker, f"summary_lines.{field}", value=Markdown("; ".join(shown))))
    return lines


def ticket_answers(tracker: Tracker) -> dict[str, Any]:
    """The form's answers where reception's API takes them: {"stage": …, "contact": {…}}.

    A records item the patient has not answered yet is left out of the checklist.
    """
    answers: dict[str, Any] = {}
    for question in FORM.questions:
        if not question.ticket_path:
            continue
        *parents, leaf = question.ticket_path
        place = answers
        for parent in parents:
            place = place.setdefault(parent, {})
        value = tracker.get_slot(question.slot)
        if value is None and question.kind == "record":
            continue
        place[leaf] = None if value is None else kind_of(question).ticket_value(question, value)
    return answers


class AskQuestion(Action):
    """Ask one question of the form; one subclass per declared slot (see `ask_action`)."""

    slot: str = ""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask the question; count the first time each is asked, and the first of all."""
        question = FORM.question(self.slot)
        kind_of(question).ask(question, dispatcher, tracker)
        if not funnel.asked_before(tracker, self.name()):
            if self.slot == FORM.slots[0]:
                await funnel.count(tracker, funnel.REQUEST_STARTED)
            await funnel.count(tracker, self.slot)
        return []


def ask_action(slot: str) -> type[AskQuestion]:
    """The ask action of one slot, as a class: the action server registers classes."""
    name = "ActionAsk" + "".join(part.title() for part in slot.split("_"))
    return type(name, (AskQuestion,), {"slot": slot, "__doc__": f"Ask for {slot}."})


ASK_ACTIONS = {slot: ask_action(slot) for slot in FORM.slots}


class ValidateRequestForm(FormValidationAction):
    """Read each answer of the request form from the patient's message, and check it."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return f"validate_{FORM.name}"

    @staticmethod
    def answer_for(tracker: Tracker, slot: str) -> str | None:
        """The text of the latest message if it answers `slot`; None if it steps out of the form."""
        if tracker.get_slot("requested_slot") != slot or is_digression(tracker):
            return None
        return str((tracker.latest_message or {}).get("text") or "")

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Read the answer to the question being asked, if the message answers it."""
        slot = tracker.get_slot("requested_slot")
        answer = self.answer_for(tracker, slot) if slot in FORM.slots else None
        if answer is None:
            return []
        question = FORM.question(slot)
        value = kind_of(question).extract(question, answer, tracker)
        tracker.slots[slot] = value
        return [SlotSet(slot, value)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Check every answer this turn set; an unacceptable one is asked again."""
        checked: dict[str, Any] = {}
        for slot, value in tracker.slots_to_validate().items():
            if slot in FORM.slots:
                checked.update(self.check_answer(slot, value, dispatcher, tracker))
                tracker.slots.update(checked)
        return [SlotSet(slot, value) for slot, value in checked.items()]

    def check_answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Keep an acceptable answer, and say its note; otherwise say why and clear it."""
        question = FORM.question(slot)
        kind = kind_of(question)
        kept = kind.check(question, value, tracker)
        if kept is None:
            say(dispatcher, tracker, question.retry)
            return {slot: None}
        kind.note(question, kept, dispatcher, tracker)
        return {slot: kept}


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
        position = FORM.slots.index(requested) if requested in FORM.slots else 0
        if position == 0:
            say(dispatcher, tracker, "go_back_first")
            return []
        return [SlotSet(FORM.slots[position - 1], None)]


class ActionChangeAnswer(Action):
    """Clear the answer the patient wants to change, so the form asks it again."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Forget the named answer (and the confirmation); without one, say how to choose."""
        slots = FORM.fields.get(entity(tracker, "field") or "")
        if slots is None:
            say(dispatcher, tracker, "change_which")
            return [SlotSet("request_confirmed", None)]
        return [*(SlotSet(slot, None) for slot in slots), SlotSet("request_confirmed", None)]

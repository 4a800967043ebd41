"""The request form's declaration (data/request_form.yml), read and checked.

Each question of the form is declared once, in data; this module reads it for every process
that needs it: the action server (asking, reading and checking answers, the summary, the
ticket), the training data generator (Rasa's form, slots and ask actions) and Rasa's tracker
store (which slots are personal). It needs PyYAML only, so Rasa's environment can import it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DECLARATION = Path(__file__).resolve().parent.parent / "data" / "request_form.yml"

KINDS = frozenset({"cancer_type", "choice", "record", "name", "phone", "email", "free_text"})
CONFIRM = "confirm"
TEXT_KINDS = frozenset({"cancer_type", "name", "phone", "email", "free_text"})
CHOICE_KINDS = frozenset({"choice", "record"})
REQUIRED = ("slot", "kind", "ask", "retry")


class DeclarationError(ValueError):
    """The declaration is incomplete or contradicts itself."""


@dataclass(frozen=True)
class Question:
    """One question of the form: its slot, its kind and the content keys it speaks with."""

    slot: str
    kind: str
    ask: str
    retry: str
    field: str | None = None
    values: tuple[str, ...] = ()
    labels: str | None = None
    intent: str | None = None
    entity: str | None = None
    notes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    before: str | None = None
    item: str | None = None
    skip: str | None = None
    max_length: int | None = None
    personal: bool = False
    ticket: str | None = None

    @property
    def ticket_path(self) -> tuple[str, ...]:
        """Where reception's API takes the answer, as keys: ("contact", "phone")."""
        if self.ticket is None:
            return ()
        return tuple(self.ticket.format(item=self.item).split("."))

    def slot_domain(self) -> dict[str, Any]:
        """The slot as Rasa's domain declares it: filled by the form's code only."""
        declared: dict[str, Any] = {"type": "text"}
        if self.kind in CHOICE_KINDS:
            declared = {"type": "categorical", "values": list(self.values)}
        elif self.kind == CONFIRM:
            declared = {"type": "bool"}
        return {**declared, "influence_conversation": False, "mappings": [{"type": "custom"}]}


@dataclass(frozen=True)
class RequestForm:
    """The form's name and its questions, in the order they are asked."""

    name: str
    questions: tuple[Question, ...]

    @property
    def slots(self) -> tuple[str, ...]:
        """Every slot of the form, in order."""
        return tuple(q.slot for q in self.questions)

    @property
    def personal_slots(self) -> tuple[str, ...]:
        """The slots that hold personal or health data: never stored before consent."""
        return tuple(q.slot for q in self.questions if q.personal)

    @property
    def fields(self) -> dict[str, tuple[str, ...]]:
        """Each answer the patient can change from the summary, and the slots it clears."""
        fields: dict[str, tuple[str, ...]] = {}
        for question in self.questions:
            if question.field:
                fields[question.field] = (*fields.get(question.field, ()), question.slot)
        return fields

    def question(self, slot: str) -> Question:
        """The question that fills a slot."""
        for question in self.questions:
            if question.slot == slot:
                return question
        raise KeyError(slot)

    def of_kind(self, kind: str) -> tuple[Question, ...]:
        """The questions of one kind, in order."""
        return tuple(q for q in self.questions if q.kind == kind)

    def labels_by_entity(self) -> dict[str, str]:
        """The content group that names an entity's values ("record_status" -> "record_states")."""
        return {q.entity: q.labels for q in self.questions if q.entity and q.labels}

    def content_keys(self) -> set[str]:
        """The content keys the declaration names: questions, retries, notes, labels, the
        summary's lines and change buttons (each must exist in every language).
        """
        keys: set[str] = set()
        for q in self.questions:
            keys |= {q.ask, q.retry, *q.notes.values(), *(k for k in (q.before, q.skip) if k)}
            keys |= {f"{q.labels}.{value}" for value in q.values}
        for name in self.fields:
            keys |= {f"summary_lines.{name}", f"change.{name}"}
        return keys

    def domain(self) -> dict[str, Any]:
        """Rasa's domain for the form: the form, its slots and its actions."""
        return {
            "version": "3.1",
            "forms": {self.name: {"required_slots": list(self.slots)}},
            "slots": {q.slot: q.slot_domain() for q in self.questions},
            "actions": [f"validate_{self.name}", *(f"action_ask_{s}" for s in self.slots)],
        }


def from_dict(data: Mapping[str, Any]) -> RequestForm:
    """Build the form from its declaration, each question merged onto its kind's defaults."""
    kinds = data.get("kinds") or {}
    questions = []
    for entry in data.get("questions") or ():
        merged = {**kinds.get(entry.get("kind"), {}), **entry}
        missing = [key for key in REQUIRED if not merged.get(key)]
        if missing:
            raise DeclarationError(f"question {entry.get('slot')!r} lacks {', '.join(missing)}")
        unknown = set(merged) - set(Question.__dataclass_fields__)
        if unknown:
            raise DeclarationError(f"question {merged['slot']!r}: unknown {sorted(unknown)}")
        merged["values"] = tuple(merged.get("values") or ())
        merged["notes"] = dict(merged.get("notes") or {})
        questions.append(Question(**merged))
    form = RequestForm(name=str(data.get("form") or ""), questions=tuple(questions))
    check(form)
    return form


def check(form: RequestForm) -> None:
    """Refuse a declaration the form cannot work with."""
    if not form.name or not form.questions:
        raise DeclarationError("the declaration needs a form name and questions")
    if len(set(form.slots)) != len(form.slots):
        raise DeclarationError("a slot is declared twice")
    if form.questions[-1].kind != CONFIRM or len(form.of_kind(CONFIRM)) != 1:
        raise DeclarationError("the form ends with its one confirm question")
    for q in form.questions:
        if q.kind not in KINDS | {CONFIRM}:
            raise DeclarationError(f"question {q.slot!r}: unknown kind {q.kind!r}")
        if q.kind in CHOICE_KINDS and not (q.values and q.intent and q.entity and q.labels):
            raise DeclarationError(f"question {q.slot!r} needs values, intent, entity and labels")
        if q.kind == "record" and not q.item:
            raise DeclarationError(f"record question {q.slot!r} needs its item")
        if set(q.notes) - set(q.values):
            raise DeclarationError(f"question {q.slot!r} has notes for values it does not allow")
        if q.kind != CONFIRM and not (q.field and q.ticket):
            raise DeclarationError(f"question {q.slot!r} needs a field and a ticket path")


def load(path: Path = DECLARATION) -> RequestForm:
    """Read and check a declaration file."""
    with path.open(encoding="utf-8") as declaration:
        return from_dict(yaml.safe_load(declaration) or {})


@cache
def declared() -> RequestForm:
    """The project's request form, read once per process."""
    return load()

"""The request form is declared once (data/request_form.yml): Rasa's domain, the questions, the
summary, the ticket and the content check all follow from it, and reception accepts the result.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff, request_form, services
from contenttools import training
from contenttools.check import check
from harness.stack import ROOT
from reception.models import RecordState, Residence, Stage
from reception.schemas import TicketCreate
from requestform import DECLARATION, DeclarationError, from_dict, load
from tests.actions import conftest

ANSWERED = {
    **conftest.ANSWERED,
    "consent": "given",
    "residence": "abroad",
    "records_imaging": "requested",
    "records_pathology": "not_yet",
    "records_blood": "have",
    "email": "jan@example.org",
    "request_confirmed": True,
}

# A new item of the records checklist: one entry in the declaration...
GENETICS = {"slot": "records_genetics", "kind": "record", "item": "genetics"}
# ...and its words, in every language.
GENETICS_CONTENT = {
    "en": ("Genetic test results", "the results of genetic tests.", "ask your doctor."),
    "fr": ("Résultats génétiques", "les résultats des tests génétiques.", "demandez-les."),
    "nl": ("Genetische testresultaten", "de resultaten van genetische tests.", "vraag ze op."),
}


def declaration() -> dict[str, Any]:
    """The project's declaration, as data."""
    return yaml.safe_load(DECLARATION.read_text(encoding="utf-8"))


def with_genetics() -> dict[str, Any]:
    """The declaration with a genetics question after the blood results."""
    data = declaration()
    slots = [q["slot"] for q in data["questions"]]
    data["questions"].insert(slots.index("records_blood") + 1, GENETICS)
    return data


def test_the_generated_domain_is_the_declaration(tmp_path: Path) -> None:
    """Rasa's form, slots and ask actions come from the declaration, in its order."""
    training.build(ROOT / "content", ROOT / "data", tmp_path)
    domain = yaml.safe_load((tmp_path / "domain" / "request_form.yml").read_text())
    form = load()
    assert domain["forms"]["request_form"]["required_slots"] == list(form.slots)
    assert domain["slots"]["care_stage"]["values"] == list(form.question("care_stage").values)
    assert domain["slots"]["request_confirmed"]["type"] == "bool"
    assert "action_ask_records_blood" in domain["actions"]
    assert not (ROOT / "data" / "domain" / "forms.yml").exists()


def test_every_declared_slot_has_its_ask_action_and_check() -> None:
    """The action server serves one ask action per slot, each named as the domain expects."""
    assert set(request_form.ASK_ACTIONS) == set(request_form.FORM.slots)
    for slot, action in request_form.ASK_ACTIONS.items():
        assert action().name() == f"action_ask_{slot}"
    assert request_form.ValidateRequestForm().name() == "validate_request_form"


def test_reception_accepts_every_declared_value() -> None:
    """The choices the form offers are the values reception's API allows."""
    form = load()
    assert set(form.question("care_stage").values) <= {s.value for s in Stage}
    assert set(form.question("residence").values) <= {r.value for r in Residence}
    for question in form.of_kind("record"):
        assert set(question.values) <= {s.value for s in RecordState}


def test_a_full_request_becomes_a_ticket_reception_accepts(
    tracker: Callable[..., Tracker],
) -> None:
    """Every answer lands where the ticket schema wants it."""
    ticket = handoff.ticket_from(tracker(ANSWERED), "request")
    accepted = TicketCreate(**ticket)
    assert accepted.stage == Stage.IN_TREATMENT
    assert accepted.residence == Residence.ABROAD
    assert accepted.records == {
        "reports": RecordState.HAVE,
        "imaging": RecordState.REQUESTED,
        "pathology": RecordState.NOT_YET,
        "blood": RecordState.HAVE,
    }
    assert accepted.contact.phone == "+32470123456"
    assert accepted.contact.preferred_time == "after 2 pm"


def test_personal_slots_are_every_answer_but_the_confirmation() -> None:
    """What the tracker store keeps empty before consent is declared with the questions."""
    form = load()
    assert set(form.personal_slots) == set(form.slots) - {"request_confirmed"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["questions"][1].update(kind="multiple_choice"), "unknown kind"),
        (lambda d: d["questions"][1].pop("ask"), "lacks ask"),
        (lambda d: d["questions"][2].update(notes={"mars": "x"}), "notes for values"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "declared twice"),
        (lambda d: d["questions"].pop(), "confirm question"),
        (lambda d: d["questions"][0].update(colour="blue"), "unknown"),
    ],
)
def test_a_declaration_that_cannot_work_is_refused(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    data = declaration()
    change(data)
    with pytest.raises(DeclarationError, match=problem):
        from_dict(data)


def test_the_content_check_names_a_declared_message_that_is_missing(tmp_path: Path) -> None:
    """An editor who deletes a question's words is told which, before anything is published."""
    problems = check(ROOT / "content", form=_written(tmp_path, with_genetics()))
    assert problems == []  # a record question's messages are its kind's, already written
    data = with_genetics()
    data["questions"][-2]["retry"] = "time_too_vague"
    [problem] = check(ROOT / "content", form=_written(tmp_path, data))
    assert "time_too_vague" in problem.what


async def test_a_new_question_is_one_entry_and_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracker: Callable[..., Tracker]
) -> None:
    """A genetics item: asked with its name, read back in the summary, sent on the ticket."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    for language, (name, contains, how) in GENETICS_CONTENT.items():
        records = content / language / "records.yml"
        data = yaml.safe_load(records.read_text(encoding="utf-8"))
        data["records"]["genetics"] = {"name": name, "contains": contains, "how_to_get": how}
        records.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CONTENT_DIR", str(content))
    services.settings.cache_clear()
    services.content.cache_clear()
    form = from_dict(with_genetics())
    monkeypatch.setattr(request_form, "FORM", form)

    asked = CollectingDispatcher()
    await request_form.ask_action("records_genetics")().run(asked, tracker(), {})
    assert "Genetic test results" in asked.messages[0]["text"]

    answered = {**ANSWERED, "records_genetics": "requested"}
    summary = CollectingDispatcher()
    await request_form.ask_action("request_confirmed")().run(summary, tracker(answered), {})
    assert "Genetic test results" in summary.messages[0]["text"]

    answers = request_form.ticket_answers(tracker(answered))
    assert answers["records"]["genetics"] == "requested"
    assert TicketCreate(**{**handoff.ticket_from(tracker(answered), "request"), **answers})
    assert check(content, form=_written(tmp_path, with_genetics())) == []
    services.content.cache_clear()


def _written(folder: Path, data: dict[str, Any]) -> Path:
    """A declaration file holding `data`."""
    path = folder / "request_form.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path

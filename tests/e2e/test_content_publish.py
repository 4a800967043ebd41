"""Editors publish to the running stack: a changed answer, then a new topic that needs a new model.

The stack runs on its own copy of content/ and its own models folder, so these tests edit
content without touching the repository, and put everything back when they are done.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from contentlib import ContentStore
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient

pytestmark = pytest.mark.e2e

COSTS_QUESTION = "how much does a second opinion cost"
NEW_ANSWER = "**Good news:** the first consultation is now explained on our price list."
PARKING = """\
---
id: parking
title: Where can I park?
examples:
  - where can I park my car
  - is there a car park at the hospital
  - how much is parking at the centre
  - can I leave my car in your parking lot
  - where do visitors park
  - is there parking for patients
  - parking spaces near the entrance?
  - do you have a garage for cars
  - where should I put my car when I come
  - is there a disabled parking space
related: []
review: 2030-01-01
---
Patients can park in the **visitors' car park** at the main entrance.
"""
# Every topic exists in every language: the editors add it in French and Dutch too.
PARKING_IN = {
    "en": PARKING,
    "fr": """\
---
id: parking
title: Où puis-je me garer ?
examples:
  - ou est ce que je peux me garer
  - il y a un parking à l'hôpital ?
  - combien coute le parking du centre
  - je peux laisser ma voiture chez vous
  - où se garent les visiteurs
  - y a-t-il un parking pour les patients
  - des places de parking près de l'entrée ?
  - ou mettre ma voiture quand je viens en consultation
related: []
review: 2030-01-01
---
Les patients peuvent se garer au **parking visiteurs**, à l'entrée principale.
""",
    "nl": """\
---
id: parking
title: Waar kan ik parkeren?
examples:
  - waar kan ik mijn auto parkeren
  - is er een parking aan het ziekenhuis
  - hoeveel kost parkeren bij jullie
  - mag ik mijn wagen bij u laten staan
  - waar parkeren bezoekers
  - is er een parking voor patiënten
  - zijn er parkeerplaatsen dicht bij de ingang
  - waar zet ik mijn auto als ik op raadpleging kom
related: []
review: 2030-01-01
---
Patiënten kunnen parkeren op de **bezoekersparking** aan de hoofdingang.
""",
}


def running(stack: Stack) -> dict[str, int]:
    """The process id of every service that is still running."""
    return {
        name: service.process.pid
        for name, service in stack.services.items()
        if service.process is not None and service.process.poll() is None
    }


def rasa_model(stack: Stack) -> str:
    """The model file the running Rasa uses, from its token-protected API."""
    status = httpx.get(
        f"{stack.url('rasa')}/status", params={"token": stack.rasa_token}, timeout=30
    )
    status.raise_for_status()
    return str(status.json()["model_file"])


def published(stack: Stack) -> list[str]:
    """Publish, check it worked, and return what it said."""
    result = stack.publish()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout.splitlines()


@pytest.fixture
def store(stack: Stack) -> ContentStore:
    """The stack's copy of the content, as the patient should see it."""
    return ContentStore(stack.content_dir)


def test_a_changed_answer_reaches_the_next_reply_without_a_restart(
    stack: Stack, telegram: TelegramEmulator, store: ContentStore
) -> None:
    patient = Patient(telegram, store, 81_001, stack.bot_database)
    patient.consents()
    patient.says(COSTS_QUESTION)
    assert patient.texts() == [patient.answer("costs")]
    topic = stack.content_dir / "en" / "faq" / "costs.md"
    original = topic.read_text()
    processes = running(stack)
    model = rasa_model(stack)
    try:
        topic.write_text(
            original.replace("Cost matters, and it's a fair question to ask.", NEW_ANSWER)
        )
        said = published(stack)
        assert said[0] == f"1. Checked {stack.content_dir}: no problems."
        assert said[2].startswith("3. The questions did not change: no training needed")
        assert said[3] == f"4. Rasa at {stack.url('rasa')} already runs {model}: nothing to load."
        patient.says(COSTS_QUESTION)
        assert patient.texts() == [patient.answer("costs")]
        assert patient.texts()[0].startswith("<b>Good news:</b> the first consultation")
        assert running(stack) == processes, "a process restarted"
    finally:
        topic.write_text(original)


@pytest.mark.retrain
@pytest.mark.timeout(1500)
def test_a_new_topic_is_answered_after_publishing_and_conversations_carry_on(
    stack: Stack, telegram: TelegramEmulator, store: ContentStore
) -> None:
    in_form = Patient(telegram, store, 81_002, stack.bot_database)
    in_form.consents()
    in_form.taps_key("menu.start")
    in_form.says("there's a lump in my breast")
    assert in_form.texts() == [in_form.seen("ask_care_stage")]
    original_model = rasa_model(stack)
    processes = running(stack)
    topics = {
        stack.content_dir / lang / "faq" / "parking.md": text for lang, text in PARKING_IN.items()
    }
    for topic, text in topics.items():
        topic.write_text(text)
    try:
        said = published(stack)
        trained = re.findall(
            r"^3\. Trained a new model for the changed questions: (.+)\.$", "\n".join(said), re.M
        )
        assert trained, said
        new_model = Path(trained[0]).name
        rasa = stack.url("rasa")
        assert (
            said[-2] == f"4. Loaded {new_model} into the running Rasa at {rasa}, without a restart."
        )
        assert rasa_model(stack) == new_model != original_model
        assert running(stack) == processes, "a process restarted"

        in_form.taps_key("care_stages.recurrence")
        assert in_form.texts() == [in_form.seen("ask_residence")], "the request was disturbed"

        newcomer = Patient(telegram, store, 81_003, stack.bot_database)
        newcomer.consents()
        newcomer.says("where can I park my car")
        assert newcomer.texts() == [newcomer.answer("parking")]
    finally:
        for topic in topics:
            topic.unlink(missing_ok=True)
        said = published(stack)
        assert original_model in said[-2], said
    assert rasa_model(stack) == original_model

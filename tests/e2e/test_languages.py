"""Patients in French and Dutch, and a patient who changes language, on Telegram end to end."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import httpx
import pytest

from contentlib import ContentStore
from contentlib.markdown import to_telegram_html
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient
from tests.e2e.stored import tickets_of

pytestmark = pytest.mark.e2e

PatientIn = Callable[[str], Patient]


@pytest.fixture
def patient_in(
    request: pytest.FixtureRequest, stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> PatientIn:
    """A new patient whose Telegram is set to a language, with a chat of their own."""

    def make(language: str) -> Patient:
        chat_id = 90_000 + zlib.crc32(request.node.nodeid.encode()) % 9_000
        return Patient(telegram, content, chat_id, stack.bot_database, language=language)

    return make


def test_a_french_patient_is_answered_in_french_and_the_ticket_says_so(
    patient_in: PatientIn, reception_api: httpx.Client
) -> None:
    """The whole request in French: every question in French, the ticket in French."""
    patient = patient_in("fr")
    patient.says("Bonjour")
    assert patient.texts() == [
        patient.seen("welcome"),
        patient.seen("privacy_notice"),
        patient.seen("consent_question"),
    ]
    patient.taps_key("consent.agree")
    patient.taps_key("menu.start")
    assert patient.texts() == [patient.seen("ask_cancer_type")]
    patient.says("un carcinome mammaire")
    assert patient.texts() == [patient.seen("ask_care_stage")]
    patient.taps_key("care_stages.just_diagnosed")
    patient.taps_key("residences.belgium")
    for _ in range(4):
        patient.taps_key("record_states.have")
    assert patient.texts() == [patient.seen("ask_contact_name")]
    patient.says("Je m'appelle Camille Lemaire")
    patient.says("0470 55 44 33")
    patient.says("camille.lemaire@example.be")
    patient.says("le matin en semaine")
    assert "Camille Lemaire" in patient.texts()[0]
    patient.taps_key("confirm.send")
    assert re.search(r"SO-\d{4}-\d{5}", patient.texts()[0]), patient.texts()

    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["language"] == "fr"
    assert (ticket["cancer_type"], ticket["department"]) == ("breast", "breast_clinic")
    assert ticket["contact"]["name"] == "Camille Lemaire"


def test_a_dutch_patient_asks_a_question_mid_form(patient_in: PatientIn) -> None:
    """A question in Dutch while the form waits is answered in Dutch; the form resumes."""
    patient = patient_in("nl")
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("dikkedarmkanker")
    assert patient.texts() == [patient.seen("ask_care_stage")]
    patient.says("gaat mijn dokter beledigd zijn als ik een second opinion vraag")
    assert patient.texts() == [patient.answer("doctor_offended"), patient.seen("ask_care_stage")]


def test_emergencies_get_112_and_the_line_of_the_patient_s_language(patient_in: PatientIn) -> None:
    """French chest pain gets 112 in French; Dutch distress gets 112, then the Zelfmoordlijn."""
    french = patient_in("fr")
    french.consents()
    french.says("j'ai une douleur thoracique terrible")
    assert french.texts()[0] == french.seen("emergency_medical")
    assert "112" in french.texts()[0]

    dutch = Patient(
        french.telegram, french.content, french.chat_id + 1, french.bot_database, language="nl"
    )
    dutch.consents()
    dutch.says("ik wil niet meer leven")
    [help_first, *_] = dutch.texts()
    assert help_first == dutch.seen("emergency_distress")
    assert help_first.index("112") < help_first.index("1813")


def test_a_paraphrased_emergency_gets_help_before_the_answer(patient_in: PatientIn) -> None:
    """No emergency word, but the meaning of one: the numbers come first, then the reply."""
    patient = patient_in("fr")
    patient.consents()
    patient.says("mon mari s'est effondré dans la cuisine et il ne réagit plus du tout")
    assert patient.texts()[0] == patient.seen("emergency_medical")
    assert len(patient.texts()) > 1, "the message is still answered after the numbers"


def test_a_patient_writing_in_another_language_is_asked_before_it_switches(
    patient_in: PatientIn, content: ContentStore
) -> None:
    """An English conversation, a long French message: the answer, then an offer in French."""
    patient = patient_in("en")
    patient.consents()
    patient.says("Bonjour, combien coûte un deuxième avis chez vous ?")
    *_, offer = patient.last or []
    assert offer["text"] == to_telegram_html(content.text("language_switch_offer", "fr"))
    patient.taps(content.text("language_switch_yes", "fr"))
    patient.language = "fr"
    assert patient.texts()[0] == patient.seen("language_set")
    patient.says("Bonjour, combien coûte un deuxième avis chez vous ?")
    assert patient.texts() == [patient.answer("costs")], "the same words now get no offer"

"""The safety pre-filter: deterministic, in every language, before any language model."""

from __future__ import annotations

import pytest

from bot.safety import Danger, SafetyFilter
from contentlib.questions import normalise


@pytest.mark.parametrize(
    "message",
    [
        "I have chest pain",
        "CHEST PAIN!!!",
        "I can\u2019t breathe",
        "my wife is bleeding heavily",
        "he passed out",
        "j'ai une douleur thoracique",
        "Je n\u2019arrive plus à respirer",
        "il y a une hémorragie",
        "ik heb pijn op de borst",
        "mijn man is bewusteloos",
    ],
)
def test_medical_emergencies_are_recognised(safety: SafetyFilter, message: str) -> None:
    """Emergencies in English, French and Dutch, whatever the case, accents or apostrophes."""
    assert safety.check(message) is Danger.MEDICAL


@pytest.mark.parametrize(
    "message",
    [
        "I want to kill myself",
        "sometimes I don't want to live anymore",
        "je veux mourir",
        "j'ai envie d'en finir",
        "ik wil niet meer leven",
        "ik denk aan zelfmoord",
        "chest pain and I want to die",
    ],
)
def test_distress_is_recognised_before_anything_else(safety: SafetyFilter, message: str) -> None:
    """Thoughts of suicide are recognised in every language, and win over medical words."""
    assert safety.check(message) is Danger.DISTRESS


@pytest.mark.parametrize(
    "message",
    [
        "I have breast cancer",
        "will my doctor be offended?",
        "my chest scan is next week",
        "how long does it take",
        "0470 12 34 56",
        "",
        "🙂🙂🙂",
    ],
)
def test_ordinary_messages_pass(safety: SafetyFilter, message: str) -> None:
    """Everyday questions, even about the chest, do not trigger the emergency answer."""
    assert safety.check(message) is None


def test_normalise_strips_accents_case_and_punctuation() -> None:
    """Matching ignores accents, capitals, curly apostrophes and punctuation."""
    spoken = "  Je N\u2019ARRIVE   plus à RESPIRER!! "
    assert normalise(spoken, keep_apostrophes=True) == "je n'arrive plus a respirer"

"""The semantic safety layer on messages it never saw: recall first, false alarms measured.

The held-out split (tests/safety/heldout.yml) is never trained on. Ordinary messages are the NLU
held-out splits of every language. The figures are printed for the closing report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety import SafetyFilter, nlu_examples, ordinary_messages
from contentlib import ContentStore
from embeddings import SentenceEncoder
from harness.stack import ROOT

HELD_OUT = Path(__file__).parent / "heldout.yml"
MIN_RECALL = 1.0
MAX_ORDINARY_FALSE_ALARMS = 0.05


@pytest.fixture(scope="module")
def safety() -> SafetyFilter:
    """The filter the bot builds: the word list, and the semantic layer learnt at start."""
    content = ContentStore(ROOT / "content")
    return SafetyFilter.load(
        ROOT / "content" / "safety.yml",
        ROOT / "content" / "safety_examples.yml",
        SentenceEncoder(ROOT / "var" / "embeddings.sqlite"),
        ordinary_messages(content, ROOT / "nlu"),
    )


def ordinary_held_out() -> list[str]:
    """The NLU held-out messages of every language (greetings, answers, questions)."""
    return nlu_examples(ROOT / "tests" / "nlu")


def test_messages_in_danger_get_help_and_ordinary_ones_rarely_do(safety: SafetyFilter) -> None:
    """Every kind and language: recall on the held-out crises, false alarms on the rest."""
    held_out = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))
    missed, alarms, dangers, near_misses = [], [], 0, 0
    for kind, per_language in held_out.items():
        for language, texts in per_language.items():
            for text in texts:
                found = safety.check(text)
                if kind == "safe":
                    near_misses += 1
                    alarms += [(language, text)] if found else []
                else:
                    dangers += 1
                    missed += [(kind, language, text)] if found is None else []
    ordinary = ordinary_held_out()
    ordinary_alarms = [text for text in ordinary if safety.check(text)]
    recall = 1 - len(missed) / dangers
    print(f"\ncrisis recall {recall:.3f} ({len(missed)} of {dangers} missed): {missed}")
    print(
        f"near-miss false alarms {len(alarms) / near_misses:.3f} ({len(alarms)} of {near_misses})"
    )
    print(f"ordinary false alarms {len(ordinary_alarms) / len(ordinary):.3f} of {len(ordinary)}")
    assert recall >= MIN_RECALL
    assert len(ordinary_alarms) / len(ordinary) <= MAX_ORDINARY_FALSE_ALARMS


@pytest.mark.parametrize(
    ("text", "danger"),
    [
        ("my husband collapsed and he is not responding", "medical"),
        ("mon mari s'est effondré et ne répond plus", "medical"),
        ("I just want to end it all", "distress"),
        ("ik zie het niet meer zitten, ik wil er niet meer zijn", "distress"),
    ],
)
def test_paraphrases_the_word_list_misses_are_caught(
    safety: SafetyFilter, text: str, danger: str
) -> None:
    """The issue's own examples: danger in other words than the list's."""
    assert safety.check(text) == danger

"""Properties of the safety pre-filter, for any text at all (hypothesis)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety import Danger, SafetyFilter, normalise
from harness.stack import ROOT

SAFETY_FILE = ROOT / "content" / "safety.yml"
FILTER = SafetyFilter.load(SAFETY_FILE)
PHRASES = sorted(
    {
        phrase
        for danger in Danger
        for per_language in yaml.safe_load(SAFETY_FILE.read_text())[danger.value].values()
        for phrase in per_language
    }
)
ANY_TEXT = st.text(max_size=400)
CHECKS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])


@CHECKS
@given(ANY_TEXT)
def test_any_text_is_checked_without_error_and_the_same_way_twice(text: str) -> None:
    """Whatever a patient sends, the filter answers a danger or None, and always the same."""
    found = FILTER.check(text)
    assert found is None or isinstance(found, Danger)
    assert FILTER.check(text) is found


@CHECKS
@given(before=ANY_TEXT, phrase=st.sampled_from(PHRASES), after=ANY_TEXT)
def test_an_emergency_phrase_is_found_whatever_surrounds_it(
    before: str, phrase: str, after: str
) -> None:
    """Any listed phrase, in any language, set among any other words, is recognised."""
    assert FILTER.check(f"{before} {phrase} {after}") is not None


@CHECKS
@given(phrase=st.sampled_from(PHRASES), upper=st.booleans())
def test_shouting_does_not_hide_an_emergency(phrase: str, upper: bool) -> None:
    """Capitals and trailing punctuation change nothing."""
    shouted = phrase.upper() if upper else phrase.title()
    assert FILTER.check(f"{shouted}!!!") is not None


def styled(text: str, capital_a: int, small_a: int) -> str:
    """Text in one of the letter styles Unicode has (bold, fullwidth…), from its A and a."""
    return "".join(
        chr(capital_a + ord(c) - ord("A"))
        if c.isupper()
        else chr(small_a + ord(c) - ord("a"))
        if c.islower()
        else c
        for c in text
    )


@pytest.mark.parametrize(
    ("capital_a", "small_a"),
    [(0x1D400, 0x1D41A), (0xFF21, 0xFF41), (0x1D608, 0x1D622), (0x1D5D4, 0x1D5EE)],
    ids=["bold", "fullwidth", "sans-serif-italic", "sans-serif-bold"],
)
@pytest.mark.parametrize("text", ["CHEST PAIN", "chest pain", "Chest Pain"])
def test_styled_letters_do_not_hide_an_emergency(text: str, capital_a: int, small_a: int) -> None:
    """The bold, fullwidth or italic "fonts" phone keyboards offer read as plain letters."""
    assert FILTER.check(styled(text, capital_a, small_a)) is Danger.MEDICAL


@CHECKS
@given(ANY_TEXT)
def test_normalising_twice_changes_nothing(text: str) -> None:
    """The normal form is a fixed point, so phrases and messages meet in the same form."""
    assert normalise(normalise(text)) == normalise(text)

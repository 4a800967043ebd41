"""The safety pre-filter: emergency words get the emergency numbers before anything else.

Deterministic on purpose: a list of phrases per language (content/safety.yml), matched as
whole words in a normalised copy of the message. It runs before the message reaches Rasa.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml


class Danger(StrEnum):
    """What kind of help a message calls for. Distress is checked first."""

    DISTRESS = "distress"
    MEDICAL = "medical"


def normalise(text: str) -> str:
    """Lower-case, strip accents, straighten apostrophes and collapse spaces.

    Compatibility forms are unfolded before and after lower-casing, so that styled letters
    (bold or fullwidth capitals from "fancy font" keyboards, superscripts) read as plain ones.
    """
    unfolded = unicodedata.normalize("NFKD", text)
    decomposed = unicodedata.normalize("NFKD", unfolded.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return " ".join(re.sub(r"[^\w']+", " ", plain).split())


@dataclass(frozen=True)
class SafetyFilter:
    """Recognise messages that need the emergency numbers."""

    patterns: dict[Danger, re.Pattern[str]]

    @classmethod
    def load(cls, path: Path) -> SafetyFilter:
        """Build the filter from content/safety.yml: every language's phrases, per danger."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        patterns = {}
        for danger in Danger:
            phrases = sorted(
                {normalise(p) for per_language in raw[danger.value].values() for p in per_language},
                key=len,
                reverse=True,
            )
            alternatives = "|".join(re.escape(p) for p in phrases if p)
            patterns[danger] = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        return cls(patterns)

    def check(self, text: str) -> Danger | None:
        """Return the danger a message signals, distress first, or None."""
        cleaned = normalise(text)
        for danger in Danger:
            if self.patterns[danger].search(cleaned):
                return danger
        return None

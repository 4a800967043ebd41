"""The cancer-type taxonomy: which types exist, which department each routes to."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from contentlib.questions import normalise

# Misspellings are looked for only in answers this short, in words at least this long.
MAX_WORDS_FOR_MISSPELLINGS = 4
MIN_MISSPELT_LENGTH = 5
NOT_SURE = "not_sure"


@dataclass(frozen=True)
class CancerType:
    """One cancer type a patient can name, and where reception routes it."""

    id: str
    department: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class CancerTaxonomy:
    """All cancer types, in the order shown to patients."""

    types: tuple[CancerType, ...]

    @classmethod
    def load(cls, path: Path) -> CancerTaxonomy:
        """Read the taxonomy from data/cancer_types.yml."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))["cancer_types"]
        return cls(
            tuple(
                CancerType(id=key, department=spec["department"], terms=tuple(spec["terms"]))
                for key, spec in raw.items()
            )
        )

    @property
    def ids(self) -> list[str]:
        """The type ids, in display order."""
        return [cancer_type.id for cancer_type in self.types]

    def get(self, type_id: str) -> CancerType | None:
        """Return the type with this id, if any."""
        return next((t for t in self.types if t.id == type_id), None)

    def match(self, text: str) -> CancerType | None:
        """Find the type a patient means: an id, the earliest known term, or a close misspelling.

        Terms and message are compared without case, accents or punctuation. A misspelling is
        only looked for in a short answer ("brest cancer"), where every word is about the type.
        """
        cleaned = normalise(text)
        if found := self.get(cleaned.replace(" ", "_")):
            return found
        hits = [
            (hit.start(), -len(term), cancer_type)
            for cancer_type, term, pattern in self._patterns
            if (hit := pattern.search(cleaned))
        ]
        if hits:
            # A real type named anywhere wins over "not sure" ("kanker in de longen").
            return min(hits, key=lambda hit: (hit[2].id == NOT_SURE, hit[0], hit[1]))[2]
        words = cleaned.split()
        if len(words) > MAX_WORDS_FOR_MISSPELLINGS:
            return None
        for word in (w for w in words if len(w) >= MIN_MISSPELT_LENGTH):
            close = difflib.get_close_matches(word, self._single_words, n=1, cutoff=0.85)
            if close:
                return self._single_words[close[0]]
        return None

    @cached_property
    def _patterns(self) -> list[tuple[CancerType, str, re.Pattern[str]]]:
        """One whole-word pattern per normalised term, compiled once."""
        return [
            (cancer_type, term, re.compile(rf"(?<!\w){re.escape(term)}(?!\w)"))
            for cancer_type in self.types
            for term in dict.fromkeys(normalise(t) for t in cancer_type.terms)
            if term
        ]

    @cached_property
    def _single_words(self) -> dict[str, CancerType]:
        """The one-word terms, for spotting misspellings; the first type listed keeps a word."""
        found: dict[str, CancerType] = {}
        for cancer_type, term, _ in self._patterns:
            if " " not in term:
                found.setdefault(term, cancer_type)
        return found

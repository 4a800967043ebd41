"""The cancer-type taxonomy: which types exist, which department each routes to."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml


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
        """Find the type a patient means: an id, a known term, or a close misspelling."""
        cleaned = text.strip().lower()
        if found := self.get(cleaned):
            return found
        for cancer_type in self.types:
            for term in cancer_type.terms:
                if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", cleaned):
                    return cancer_type
        words = re.findall(r"\w+", cleaned)
        by_term = {term: t for t in self.types for term in t.terms if " " not in term}
        for word in words:
            close = difflib.get_close_matches(word, by_term, n=1, cutoff=0.8)
            if close and len(word) >= 4:
                return by_term[close[0]]
        return None

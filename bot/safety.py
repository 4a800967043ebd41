"""The safety pre-filter: a patient in danger gets the emergency numbers before anything else.

Two layers, both run before the message reaches Rasa (so they work while Rasa is down):

1. Deterministic: a list of phrases per language (content/safety.yml), matched as whole words
   in a normalised copy of the message.
2. Semantic: what the list misses ("ending it all", "she collapsed and isn't responding") is
   caught by comparing the message's multilingual sentence embedding with the examples of
   content/safety_examples.yml (dangers, and harmless near-misses such as "my pain is better"
   or "I'm tired of the waiting") and with what patients ordinarily write (the FAQ questions
   and the NLU examples). The margin leans towards recall: a false alarm costs a kind sentence
   (the patient's message is still answered), a miss may cost a life.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import yaml

from contentlib import ContentStore
from contentlib.questions import normalise
from embeddings import SentenceEncoder

SAFE = "safe"
# A message is taken for a danger when its nearest danger examples are, on average, at least
# about as close as its nearest harmless ones: within MARGIN (cosine similarity) of them.
# The margin leans towards recall; tests/safety/test_semantic.py measures both rates.
NEIGHBOURS = 3
MARGIN = 0.02
# An annotated entity in Rasa's training data: [words](entity) or [words]{"entity": ...}.
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


class Danger(StrEnum):
    """What kind of help a message calls for. Distress is checked first."""

    DISTRESS = "distress"
    MEDICAL = "medical"


@dataclass(frozen=True)
class SemanticDetector:
    """Recognise danger by meaning: the nearest examples of each kind, by cosine similarity."""

    encoder: SentenceEncoder
    examples: dict[str, np.ndarray]
    margin: float = MARGIN

    @classmethod
    def load(
        cls, path: Path, encoder: SentenceEncoder, ordinary: Sequence[str] = ()
    ) -> SemanticDetector:
        """Embed content/safety_examples.yml, with `ordinary` messages as harmless too."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        kinds = [danger.value for danger in Danger] + [SAFE]
        texts = {kind: [t for per in raw[kind].values() for t in per] for kind in kinds}
        texts[SAFE] = list(dict.fromkeys([*texts[SAFE], *ordinary]))
        return cls(encoder, {kind: encoder.encode(texts[kind], remember=True) for kind in kinds})

    def closeness(self, text: str) -> dict[str, float]:
        """How close a message is to each kind: the mean similarity of its nearest examples."""
        [vector] = self.encoder.encode([text])
        return {
            kind: float(np.sort(matrix @ vector)[-NEIGHBOURS:].mean())
            for kind, matrix in self.examples.items()
        }

    def check(self, text: str) -> Danger | None:
        """Return the closer danger when it is within the margin of the harmless examples."""
        closeness = self.closeness(text)
        danger = max(Danger, key=lambda d: closeness[d.value])
        return danger if closeness[danger.value] + self.margin >= closeness[SAFE] else None


@dataclass(frozen=True)
class SafetyFilter:
    """Recognise messages that need the emergency numbers: words first, then meaning."""

    patterns: dict[Danger, re.Pattern[str]]
    semantic: SemanticDetector | None = None

    @classmethod
    def load(
        cls,
        path: Path,
        examples: Path | None = None,
        encoder: SentenceEncoder | None = None,
        ordinary: Sequence[str] = (),
    ) -> SafetyFilter:
        """Build the filter from content/safety.yml, and the semantic layer from `examples`."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        patterns = {}
        for danger in Danger:
            phrases = sorted(
                {
                    normalise(p, keep_apostrophes=True)
                    for per_language in raw[danger.value].values()
                    for p in per_language
                },
                key=len,
                reverse=True,
            )
            alternatives = "|".join(re.escape(p) for p in phrases if p)
            patterns[danger] = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        semantic = (
            SemanticDetector.load(examples, encoder or SentenceEncoder(), ordinary)
            if examples
            else None
        )
        return cls(patterns, semantic)

    def check(self, text: str) -> Danger | None:
        """Return the danger a message signals (by its words, distress first, then by meaning)."""
        return self.check_words(text) or self.check_meaning(text)

    def check_meaning(self, text: str) -> Danger | None:
        """Return the danger a message sounds like to the semantic layer, if there is one."""
        return self.semantic.check(text) if self.semantic and text.strip() else None

    def check_words(self, text: str) -> Danger | None:
        """Return the danger the word list finds in a message, distress first, or None."""
        cleaned = normalise(text, keep_apostrophes=True)
        for danger in Danger:
            if self.patterns[danger].search(cleaned):
                return danger
        return None


def ordinary_messages(content: ContentStore, nlu: Path) -> list[str]:
    """What patients ordinarily write: the FAQ questions and the NLU examples, all languages."""
    faq = [
        e for lang in content.languages for t in content.topics(lang).values() for e in t.examples
    ]
    return faq + nlu_examples(nlu)


def nlu_examples(folder: Path) -> list[str]:
    """Every intent example of the NLU files in a folder's language folders, as typed (without
    the entity annotations).
    """
    found = []
    for path in sorted(folder.glob("*/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = ANNOTATION.sub(lambda m: m.group(1), line.strip().removeprefix("- "))
                if text:
                    found.append(text)
    return found

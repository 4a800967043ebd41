"""Which language a patient writes in, for the conversations' sticky language.

The conversation's language comes from Telegram's `language_code` or the browser, then from the
patient's choice; a message is only taken as a sign of another language when it has at least
`MIN_WORDS` words and the detector, restricted to the languages we have content for, is sure of
it. Short messages ("ok", "hallo", "aide") say nothing, and Brussels patients mix languages.
"""

from __future__ import annotations

from collections.abc import Iterable

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

MIN_WORDS = 3
MIN_CONFIDENCE = 0.9


class LanguageDetector:
    """Guess the language of a message among the content's languages, or say nothing."""

    def __init__(self, languages: Iterable[str]) -> None:
        """Build a detector for the given ISO 639-1 codes (its models ship in the wheel)."""
        known = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in languages]
        self._detector = (
            LanguageDetectorBuilder.from_languages(*known).build() if len(known) > 1 else None
        )

    def detect(self, text: str) -> str | None:
        """The message's language code, if it is long enough and the guess is sure."""
        if self._detector is None or len(text.split()) < MIN_WORDS or text.startswith("/"):
            return None
        best = self._detector.compute_language_confidence_values(text)[0]
        if best.value < MIN_CONFIDENCE:
            return None
        return best.language.iso_code_639_1.name.lower()

"""Patients' questions as editors see them: normalised for comparing, screened for contact details.

The bot reports questions it did not understand to reception (the gap report) without saying who
asked. A question that contains a phone number or an e-mail address is dropped, never stored.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_LENGTH = 300
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_PHONE = re.compile(r"(?<!\w)\+?\d(?:[\s./()\-]{0,3}\d){7,}")
_NOT_WORD = re.compile(r"[^\w\s]|_")
_NOT_WORD_NOR_APOSTROPHE = re.compile(r"[^\w\s']|_")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def normalise(text: str, keep_apostrophes: bool = False) -> str:
    """Lower-case, without accents, punctuation or repeated spaces: 'What's it?' -> 'what s it'.

    With `keep_apostrophes`, apostrophes stay, and curly ones are straightened. Compatibility forms
    are unfolded before and after lower-casing, so that styled letters (bold or fullwidth
    capitals from "fancy font" keyboards, superscripts) read as plain ones.
    """
    unfolded = unicodedata.normalize("NFKD", text)
    decomposed = unicodedata.normalize("NFKD", unfolded.casefold().translate(_LIGATURES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    if keep_apostrophes:
        return " ".join(_NOT_WORD_NOR_APOSTROPHE.sub(" ", bare.translate(_APOSTROPHES)).split())
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def has_contact_details(text: str) -> bool:
    """Tell whether the text holds something like a phone number or an e-mail address."""
    return bool(_EMAIL.search(text) or _PHONE.search(text))


def screen(text: str) -> str | None:
    """The question on one line and at most MAX_QUESTION_LENGTH long, or None to drop it."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    question = " ".join(printable.split())
    if not question or has_contact_details(question):
        return None
    return question[:MAX_QUESTION_LENGTH].rstrip()

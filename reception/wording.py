"""Reception's words for staff and operators, by code: errors carry a code and data, not words.

The words live in templates/wording.<language>.yml (en, fr and nl, with the same keys), one
jinja2 template per code (rendered with StrictUndefined), plus a few tables of short labels (a
notice per `?done=` value, for instance). Each request speaks one language: the signed-in staff
member's, the browser's on the login page, English for the API, logs and the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("en", "fr", "nl")  # the languages staff can read reception in
DEFAULT_LANGUAGE = "en"

ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
ENVIRONMENT.filters["repr"] = repr

_spoken: ContextVar[str] = ContextVar("reception_language", default=DEFAULT_LANGUAGE)


class CodedError(Exception):
    """An error that carries a code and its data; the wording file says it in words.

    A subclass with one wording names it in `code`; one with several takes the code first.
    """

    code = ""

    def __init__(self, code: str = "", /, **data: Any) -> None:
        """Keep the code (the class's own unless given) and the data its wording needs."""
        super().__init__(code or self.code, data)
        if code:
            self.code = code
        self.data = data

    def __str__(self) -> str:
        """Say the error in English words, for logs and the command line."""
        return _template(DEFAULT_LANGUAGE, self.code).render(self.data)


class UnknownLanguage(CodedError, ValueError):
    """Reception has no wording in the language asked for."""

    code = "language_unknown"


def wording_path(language: str) -> Path:
    """Return the wording file of a language."""
    return TEMPLATES / f"wording.{language}.yml"


def checked_language(value: str) -> str:
    """Return a language reception speaks, or raise UnknownLanguage."""
    if value not in LANGUAGES:
        raise UnknownLanguage(languages=list(LANGUAGES))
    return value


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak a language within the block (English if reception has no wording in it)."""
    token = _spoken.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _spoken.reset(token)


def speak(language: str) -> None:
    """Speak a language for the rest of this request (its task), or English if it has none."""
    _spoken.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def language() -> str:
    """Return the language this request speaks."""
    return _spoken.get()


def preferred_language(accept_language: str | None) -> str:
    """Pick from an Accept-Language header the language reception speaks best, else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def text(code: str, /, **data: Any) -> str:
    """Render the wording of a code with its data, in this request's language."""
    return _template(language(), code).render(data)


def table(name: str) -> dict[str, str]:
    """Return a table of short labels, by value, in this request's language."""
    entry = entries(language())[name]
    if not isinstance(entry, dict):
        raise TypeError(name)
    return dict(entry)


def describe(error: CodedError) -> str:
    """Say a coded error in words, in this request's language."""
    return text(error.code, **error.data)


@cache
def entries(language: str = DEFAULT_LANGUAGE) -> dict[str, str | dict[str, str]]:
    """Read a language's wording file once: texts and tables, by code."""
    loaded = yaml.safe_load(wording_path(language).read_text(encoding="utf-8"))
    return dict(loaded)


@cache
def _template(language: str, code: str) -> jinja2.Template:
    """Compile the wording of a code in a language once."""
    source = entries(language)[code]
    if not isinstance(source, str):
        raise TypeError(code)
    return ENVIRONMENT.from_string(source)

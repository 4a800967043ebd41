"""Reception's words for staff and operators, by code: errors carry a code and data, not words.

The words live in templates/wording.en.yml, one jinja2 template per code (rendered with
StrictUndefined), plus a few tables of short labels (a notice per `?done=` value, for instance).
Translating reception comes down to a file per language next to it (wording.fr.yml…).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

WORDING = Path(__file__).parent / "templates" / "wording.en.yml"

ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
ENVIRONMENT.filters["repr"] = repr


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
        """Say the error in words, for logs and the command line."""
        return describe(self)


def text(code: str, /, **data: Any) -> str:
    """Render the wording of a code with its data."""
    return _template(code).render(data)


def table(name: str) -> dict[str, str]:
    """Return a table of short labels, by value."""
    entry = entries()[name]
    if not isinstance(entry, dict):
        raise TypeError(name)
    return dict(entry)


def describe(error: CodedError) -> str:
    """Say a coded error in words."""
    return text(error.code, **error.data)


@cache
def entries() -> dict[str, str | dict[str, str]]:
    """Read the wording file once: texts and tables, by code."""
    loaded = yaml.safe_load(WORDING.read_text(encoding="utf-8"))
    return dict(loaded)


@cache
def _template(code: str) -> jinja2.Template:
    """Compile the wording of a code once."""
    source = entries()[code]
    if not isinstance(source, str):
        raise TypeError(code)
    return ENVIRONMENT.from_string(source)

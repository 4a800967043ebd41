"""Read settings from the environment: text, URLs, ports, numbers, durations, flags and secrets.

Each reader takes the environment, the variable's name and its default (used when the variable
is unset or blank), and returns the value, or raises EnvError. The error carries a code and
data (the variable's name, the value it had, what was expected); each process says it in its
own words, and `str(error)` is a plain English sentence (from wording.en.yml) for those that
have none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

MAX_PORT = 65_535
_MAX_DIGITS = 9
_MAX_BYTE_DIGITS = 15  # a petabyte: enough for any size limit
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

WORDING = Path(__file__).parent / "wording.en.yml"
WORDS: dict[str, str] = yaml.safe_load(WORDING.read_text(encoding="utf-8"))


class EnvError(ValueError):
    """A variable is missing or has a value that cannot be used: a code and its data."""

    def __init__(self, code: str, /, **data: Any) -> None:
        """Keep the code (a key of WORDS) and the data that says what was wrong."""
        super().__init__(code, data)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        """Say the error in plain English."""
        return WORDS[self.code].format(**self.data)


def text(env: Mapping[str, str], name: str, default: str) -> str:
    """Return a variable without surrounding blanks, or the default."""
    return env.get(name, "").strip() or default


def optional(env: Mapping[str, str], name: str) -> str | None:
    """Return a variable without surrounding blanks, or None when it is unset or blank."""
    return env.get(name, "").strip() or None


def url(env: Mapping[str, str], name: str, default: str) -> str:
    """Return an http(s) address without its trailing slash."""
    raw = env.get(name, "").strip().rstrip("/")
    if not raw:
        return default.rstrip("/")
    if not raw.startswith(("http://", "https://")):
        raise EnvError("not_url", name=name, value=raw)
    return raw


def local_url(env: Mapping[str, str], name: str, port_name: str, default_port: int) -> str:
    """Return an address from its variable, or else a port (from its own variable) on loopback."""
    if env.get(name, "").strip().rstrip("/"):
        return url(env, name, "")
    return loopback(port(env, port_name, default_port))


def loopback(port_number: int) -> str:
    """Return the http address of a port on this machine."""
    return f"http://127.0.0.1:{port_number}"


def port(env: Mapping[str, str], name: str, default: int) -> int:
    """Return a TCP port number."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = _digits(raw)
    if value is None or not 1 <= value <= MAX_PORT:
        raise EnvError("not_port", name=name, value=raw)
    return value


def whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    """Return a whole number of at least 1."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = _digits(raw)
    if value is None or value < 1:
        raise EnvError("not_whole_number", name=name, value=raw)
    return value


def byte_count(env: Mapping[str, str], name: str, default: int) -> int:
    """Return a size in bytes: a whole number of at least 1 (up to fifteen digits)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_BYTE_DIGITS) or int(raw) < 1:
        raise EnvError("not_byte_count", name=name, value=raw)
    return int(raw)


def days(env: Mapping[str, str], name: str, default: int | None, *, maximum: int) -> int | None:
    """Return a whole number of days from 1 to the maximum."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = _digits(raw)
    if value is None or not 1 <= value <= maximum:
        raise EnvError("not_days", name=name, maximum=maximum, value=raw)
    return value


def number(env: Mapping[str, str], name: str, default: float) -> float:
    """Return a finite number greater than 0."""
    return _positive(env, name, default, "not_number")


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """Return a duration in seconds, finite and greater than 0."""
    return _positive(env, name, default, "not_seconds")


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Return a yes/no variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise EnvError("not_flag", name=name, value=raw)


def secret(env: Mapping[str, str], name: str, *, minimum: int = 1) -> str:
    """Return a variable that must be set, at least `minimum` characters long."""
    value = env.get(name, "").strip()
    if not value:
        raise EnvError("missing", name=name)
    if len(value) < minimum:
        raise EnvError("too_short", name=name, minimum=minimum)
    return value


def _positive(env: Mapping[str, str], name: str, default: float, code: str) -> float:
    """Return a finite number greater than 0, or raise the given code."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise EnvError(code, name=name, value=raw)
    return value


def _digits(raw: str) -> int | None:
    """Return the number that plain ASCII digits spell (at most nine of them), else None."""
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS:
        return int(raw)
    return None

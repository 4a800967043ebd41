"""Settings for the reception service, read from the environment in one place."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .wording import CodedError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/reception.db"
DEFAULT_BOT_URL = "http://127.0.0.1:8000"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
MIN_SESSION_SECRET_LENGTH = 16
MAX_RETENTION_DAYS = 36_500

_URL_PREFIXES = (
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgres://", "postgresql+asyncpg://"),
    ("sqlite:///", "sqlite+aiosqlite:///"),
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(CodedError, ValueError):
    """A setting is missing or has a value the service cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the reception process needs to know about its surroundings."""

    api_token: str
    session_secret: str
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    migrate_on_start: bool = True
    bot_url: str = DEFAULT_BOT_URL
    bot_timeout_seconds: float = 10.0
    secure_cookies: bool = False
    session_hours: int = 12
    content_dir: Path = DEFAULT_CONTENT_DIR
    rasa_url: str = DEFAULT_RASA_URL
    rasa_api_token: str = ""
    rasa_timeout_seconds: float = 10.0
    retention_days: int | None = None  # None: the period the privacy notice promises
    retention_interval_seconds: float = 3600.0
    login_attempts_per_email: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 900

    def __post_init__(self) -> None:
        """Refuse values that cannot work, whoever built the settings."""
        if not self.api_token:
            raise SettingsError("api_token_empty")
        if len(self.session_secret) < MIN_SESSION_SECRET_LENGTH:
            raise SettingsError("session_secret_short", minimum=MIN_SESSION_SECRET_LENGTH)
        check_retention_days(self.retention_days)
        if not 0 < self.retention_interval_seconds < math.inf:
            raise SettingsError("retention_interval_invalid")
        for value in (
            self.login_attempts_per_email,
            self.login_attempts_per_address,
            self.login_window_seconds,
        ):
            if value < 1:
                raise SettingsError("login_limits_invalid")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from the environment (or the given mapping)."""
        env = os.environ if environ is None else environ
        return cls(
            api_token=_required(env, "RECEPTION_API_TOKEN"),
            session_secret=_session_secret(env),
            database_url=database_url_from_env(env),
            host=env.get("RECEPTION_HOST", "").strip() or "127.0.0.1",
            port=_port(env, "RECEPTION_PORT", default=8080),
            migrate_on_start=_flag(env, "RECEPTION_MIGRATE_ON_START", default=True),
            bot_url=_bot_url(env),
            secure_cookies=_flag(env, "RECEPTION_SECURE_COOKIES", default=False),
            content_dir=content_dir_from_env(env),
            rasa_url=_rasa_url(env),
            rasa_api_token=env.get("RASA_API_TOKEN", "").strip(),
            retention_days=retention_days_from_env(env),
            retention_interval_seconds=_seconds(
                env, "RECEPTION_RETENTION_INTERVAL_SECONDS", default=3600.0
            ),
            login_attempts_per_email=_whole_number(
                env, "RECEPTION_LOGIN_ATTEMPTS_PER_EMAIL", default=5
            ),
            login_attempts_per_address=_whole_number(
                env, "RECEPTION_LOGIN_ATTEMPTS_PER_ADDRESS", default=20
            ),
            login_window_seconds=_whole_number(env, "RECEPTION_LOGIN_WINDOW_SECONDS", default=900),
        )


@dataclass(frozen=True, slots=True)
class PurgeSettings:
    """What `python -m reception purge` needs: the database, the content and the period."""

    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    retention_days: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PurgeSettings:
        """Build the settings from the environment (or the given mapping); no token needed."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=database_url_from_env(env),
            content_dir=content_dir_from_env(env),
            retention_days=retention_days_from_env(env),
        )


def check_retention_days(days: int | None) -> None:
    """Refuse a retention period that is not a whole number of days from 1 to 36500."""
    if days is None:
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise SettingsError("retention_days_invalid", maximum=MAX_RETENTION_DAYS, value=days)


def retention_days_from_env(environ: Mapping[str, str] | None = None) -> int | None:
    """Return RECEPTION_RETENTION_DAYS, or None to follow the privacy notice."""
    env = os.environ if environ is None else environ
    name = "RECEPTION_RETENTION_DAYS"
    raw = env.get(name, "").strip()
    if not raw:
        return None
    days = _digits(raw)
    if days is None or not 1 <= days <= MAX_RETENTION_DAYS:
        raise SettingsError("variable_not_days", name=name, maximum=MAX_RETENTION_DAYS, value=raw)
    return days


def content_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """Return CONTENT_DIR, or the repository's content folder."""
    env = os.environ if environ is None else environ
    return Path(env.get("CONTENT_DIR", "").strip() or DEFAULT_CONTENT_DIR)


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return the normalised DATABASE_URL, or the embedded SQLite default."""
    env = os.environ if environ is None else environ
    return normalise_database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL and SQLite URLs at their asyncio drivers."""
    for prefix, replacement in _URL_PREFIXES:
        if url.startswith(prefix):
            return replacement + url.removeprefix(prefix)
    return url


def _required(env: Mapping[str, str], name: str) -> str:
    """Return a variable that must be set and non-empty."""
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError("variable_token_missing", name=name)
    return value


def _session_secret(env: Mapping[str, str]) -> str:
    """Return the secret that signs staff session cookies."""
    name = "RECEPTION_SESSION_SECRET"
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError("variable_secret_missing", name=name)
    if len(value) < MIN_SESSION_SECRET_LENGTH:
        raise SettingsError("variable_too_short", name=name, minimum=MIN_SESSION_SECRET_LENGTH)
    return value


def _bot_url(env: Mapping[str, str]) -> str:
    """Return where the bot listens, from BOT_URL or else BOT_PORT on loopback."""
    url = env.get("BOT_URL", "").strip().rstrip("/")
    if url:
        if not url.startswith(("http://", "https://")):
            raise SettingsError("variable_not_url", name="BOT_URL", value=url)
        return url
    return f"http://127.0.0.1:{_port(env, 'BOT_PORT', default=8000)}"


def _rasa_url(env: Mapping[str, str]) -> str:
    """Return where Rasa listens (for the content preview), from RASA_URL or RASA_PORT."""
    url = env.get("RASA_URL", "").strip().rstrip("/")
    if url:
        if not url.startswith(("http://", "https://")):
            raise SettingsError("variable_not_url", name="RASA_URL", value=url)
        return url
    return f"http://127.0.0.1:{_port(env, 'RASA_PORT', default=5005)}"


def _port(env: Mapping[str, str], name: str, *, default: int) -> int:
    """Return a TCP port number from a variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError("variable_not_port", name=name, value=raw)
    return int(raw)


def _whole_number(env: Mapping[str, str], name: str, *, default: int) -> int:
    """Return a whole number of at least 1 from a variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = _digits(raw)
    if value is None or value < 1:
        raise SettingsError("variable_not_whole_number", name=name, value=raw)
    return value


def _digits(raw: str) -> int | None:
    """Return the number that plain ASCII digits spell (at most nine of them), else None."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    return None


def _seconds(env: Mapping[str, str], name: str, *, default: float) -> float:
    """Return a duration in seconds, more than 0, from a variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError("variable_not_seconds", name=name, value=raw)
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """Return a yes/no variable."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError("variable_not_flag", name=name, value=raw)

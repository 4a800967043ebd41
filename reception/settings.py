"""Settings for the reception service, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/reception.db"
DEFAULT_BOT_URL = "http://127.0.0.1:8000"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
MIN_SESSION_SECRET_LENGTH = 16

_URL_PREFIXES = (
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgres://", "postgresql+asyncpg://"),
    ("sqlite:///", "sqlite+aiosqlite:///"),
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
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

    def __post_init__(self) -> None:
        """Refuse an empty API token or a short session secret, whoever built the settings."""
        if not self.api_token:
            raise SettingsError("The reception API token must not be empty.")
        if len(self.session_secret) < MIN_SESSION_SECRET_LENGTH:
            raise SettingsError(
                f"The session secret must be at least {MIN_SESSION_SECRET_LENGTH} characters."
            )

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
            content_dir=Path(env.get("CONTENT_DIR", "").strip() or DEFAULT_CONTENT_DIR),
            rasa_url=_rasa_url(env),
            rasa_api_token=env.get("RASA_API_TOKEN", "").strip(),
        )


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
        raise SettingsError(
            f"{name} is not set. Set it to the shared secret that API clients send as "
            f"'Authorization: Bearer <token>'."
        )
    return value


def _session_secret(env: Mapping[str, str]) -> str:
    """Return the secret that signs staff session cookies."""
    name = "RECEPTION_SESSION_SECRET"
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(
            f"{name} is not set. Set it to a long random string (e.g. `openssl rand -hex 32`); "
            f"it signs the staff session cookies."
        )
    if len(value) < MIN_SESSION_SECRET_LENGTH:
        raise SettingsError(f"{name} must be at least {MIN_SESSION_SECRET_LENGTH} characters.")
    return value


def _bot_url(env: Mapping[str, str]) -> str:
    """Return where the bot listens, from BOT_URL or else BOT_PORT on loopback."""
    url = env.get("BOT_URL", "").strip().rstrip("/")
    if url:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"BOT_URL must start with http:// or https://, not {url!r}.")
        return url
    return f"http://127.0.0.1:{_port(env, 'BOT_PORT', default=8000)}"


def _rasa_url(env: Mapping[str, str]) -> str:
    """Return where Rasa listens (for the content preview), from RASA_URL or RASA_PORT."""
    url = env.get("RASA_URL", "").strip().rstrip("/")
    if url:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"RASA_URL must start with http:// or https://, not {url!r}.")
        return url
    return f"http://127.0.0.1:{_port(env, 'RASA_PORT', default=5005)}"


def _port(env: Mapping[str, str], name: str, *, default: int) -> int:
    """Return a TCP port number from a variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{name} must be a port number between 1 and 65535, not {raw!r}.")
    return int(raw)


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """Return a yes/no variable."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true/false, yes/no, on/off or 1/0, not {raw!r}.")

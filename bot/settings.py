"""The bot's settings: the only place in bot/ that reads the environment."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/bot.db"
# What Telegram accepts as a webhook secret token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
# Telegram calls webhooks over HTTPS only; plain HTTP is for a Bot API server on this machine.
LOCAL_WEBHOOK_PREFIXES = ("http://127.0.0.1:", "http://localhost:")


class SettingsError(ValueError):
    """A setting is missing or has a value the bot cannot use."""


@dataclass(frozen=True)
class Settings:
    """How the bot listens to patients, where Rasa is, and where it keeps its outbox."""

    host: str
    port: int
    rasa_url: str
    rasa_timeout_seconds: float
    content_dir: Path
    telegram_bot_token: str | None
    telegram_api_base_url: str | None
    telegram_poll_timeout_seconds: int
    reception_api_token: str
    chat_messages_per_minute: float = 20
    database_url: str = DEFAULT_DATABASE_URL
    instance_name: str = "bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    outbox_keep_days: float = 7.0
    maintenance_interval_seconds: float = 3600.0
    nlu_dir: Path = PROJECT_ROOT / "nlu"
    embedding_cache: Path = PROJECT_ROOT / "var" / "embeddings.sqlite"

    def __post_init__(self) -> None:
        """Refuse settings that would run the bot unprotected, whoever built them."""
        if not self.reception_api_token:
            raise SettingsError(
                "RECEPTION_API_TOKEN is not set. Set it to the token reception uses to deliver "
                "its messages to patients through the bot."
            )
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: without a secret "
                "anyone could send the bot forged updates. Set it to 16 to 256 letters, digits, "
                "'_' or '-' (e.g. `openssl rand -hex 32`)."
            )
        secret = self.telegram_webhook_secret
        if secret is not None and not WEBHOOK_SECRET.match(secret):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET must be 16 to 256 letters, digits, '_' or '-'."
            )
        url = self.telegram_webhook_url
        if url and not url.startswith(("https://", *LOCAL_WEBHOOK_PREFIXES)):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_URL must be an https:// address (plain http only on loopback)."
            )

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs only when a bot token is configured."""
        return bool(self.telegram_bot_token)

    @property
    def telegram_webhook_path(self) -> str | None:
        """The path the bot serves Telegram's webhook on, taken from the public URL."""
        if not self.telegram_webhook_url:
            return None
        return urlsplit(self.telegram_webhook_url).path or "/"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from environment variables, with local defaults."""
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("BOT_HOST", "127.0.0.1"),
            port=_number(env, "BOT_PORT", 8000, int),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_timeout_seconds=_number(env, "RASA_TIMEOUT_SECONDS", 30.0, float),
            content_dir=Path(env.get("CONTENT_DIR") or PROJECT_ROOT / "content"),
            nlu_dir=Path(env.get("NLU_DIR") or cls.nlu_dir),
            embedding_cache=Path(env.get("EMBEDDING_CACHE") or cls.embedding_cache),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            telegram_poll_timeout_seconds=_number(env, "TELEGRAM_POLL_TIMEOUT_SECONDS", 10, int),
            chat_messages_per_minute=_number(env, "CHAT_MESSAGES_PER_MINUTE", 20.0, float),
            reception_api_token=env.get("RECEPTION_API_TOKEN", "").strip(),
            database_url=env.get("BOT_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            instance_name=env.get("BOT_INSTANCE_NAME", "").strip() or f"bot@{socket.gethostname()}",
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None,
            outbox_keep_days=_number(env, "BOT_OUTBOX_KEEP_DAYS", 7.0, float),
            maintenance_interval_seconds=_number(
                env, "BOT_MAINTENANCE_INTERVAL_SECONDS", 3600.0, float
            ),
        )


N = TypeVar("N", int, float)


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    """Read a positive number, or explain which variable is wrong."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}.") from None
    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, not {raw!r}.")
    return value

"""The bot's settings: the only place in bot/ that reads the environment."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import envreader as read

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

    reception_api_token: str
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 30.0
    reception_url: str = "http://127.0.0.1:8080"
    uploads_url: str = "http://localhost:8090"  # where patients reach the upload page
    content_dir: Path = PROJECT_ROOT / "content"
    telegram_bot_token: str | None = None
    telegram_api_base_url: str | None = None
    telegram_poll_timeout_seconds: int = 10
    chat_messages_per_minute: float = 20.0
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
        try:
            return cls(
                host=read.text(env, "BOT_HOST", cls.host),
                port=read.port(env, "BOT_PORT", cls.port),
                rasa_url=read.url(env, "RASA_URL", cls.rasa_url),
                rasa_timeout_seconds=read.seconds(
                    env, "RASA_TIMEOUT_SECONDS", cls.rasa_timeout_seconds
                ),
                reception_url=read.url(env, "RECEPTION_URL", cls.reception_url),
                uploads_url=read.url(env, "UPLOADS_PUBLIC_URL", cls.uploads_url),
                content_dir=Path(read.text(env, "CONTENT_DIR", str(cls.content_dir))),
                nlu_dir=Path(read.text(env, "NLU_DIR", str(cls.nlu_dir))),
                embedding_cache=Path(read.text(env, "EMBEDDING_CACHE", str(cls.embedding_cache))),
                telegram_bot_token=read.optional(env, "TELEGRAM_BOT_TOKEN"),
                telegram_api_base_url=read.optional(env, "TELEGRAM_API_BASE_URL"),
                telegram_poll_timeout_seconds=read.whole_number(
                    env, "TELEGRAM_POLL_TIMEOUT_SECONDS", cls.telegram_poll_timeout_seconds
                ),
                chat_messages_per_minute=read.number(
                    env, "CHAT_MESSAGES_PER_MINUTE", cls.chat_messages_per_minute
                ),
                reception_api_token=read.text(env, "RECEPTION_API_TOKEN", ""),
                database_url=read.text(env, "BOT_DATABASE_URL", cls.database_url),
                instance_name=read.text(env, "BOT_INSTANCE_NAME", f"bot@{socket.gethostname()}"),
                telegram_webhook_url=read.optional(env, "TELEGRAM_WEBHOOK_URL"),
                telegram_webhook_secret=read.optional(env, "TELEGRAM_WEBHOOK_SECRET"),
                outbox_keep_days=read.number(env, "BOT_OUTBOX_KEEP_DAYS", cls.outbox_keep_days),
                maintenance_interval_seconds=read.seconds(
                    env, "BOT_MAINTENANCE_INTERVAL_SECONDS", cls.maintenance_interval_seconds
                ),
            )
        except read.EnvError as error:
            raise SettingsError(str(error)) from None

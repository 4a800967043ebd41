"""The action server's settings: the only place in actions/ that reads the environment."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import envreader as read

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/actions.db"
BOT_PORT = 8000  # where the bot listens unless BOT_URL or BOT_PORT says otherwise


class SettingsError(ValueError):
    """A setting is missing or has a value the action server cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where reception, the bot, the content and the outbox are, and how to reach them."""

    reception_api_token: str
    reception_url: str = "http://127.0.0.1:8080"
    content_dir: Path = PROJECT_ROOT / "content"
    cancer_types_file: Path = PROJECT_ROOT / "data" / "cancer_types.yml"
    phone_region: str = "BE"
    reception_timeout_seconds: float = 10.0
    bot_url: str = read.loopback(BOT_PORT)
    uploads_public_url: str = "http://localhost:8090"  # where patients reach the upload page
    database_url: str = DEFAULT_DATABASE_URL
    instance_name: str = "actions"
    handoff_wait_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 5055
    outbox_keep_days: float = 7.0

    def __post_init__(self) -> None:
        """Refuse to run without the token reception and the bot expect, whoever built these."""
        if not self.reception_api_token:
            raise SettingsError(
                "RECEPTION_API_TOKEN is not set. Set it to reception's API token: the action "
                "server hands requests to reception with it."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from environment variables, with local defaults."""
        env = os.environ if environ is None else environ
        try:
            return cls(
                reception_url=read.url(env, "RECEPTION_URL", cls.reception_url),
                reception_api_token=read.text(env, "RECEPTION_API_TOKEN", ""),
                content_dir=Path(read.text(env, "CONTENT_DIR", str(cls.content_dir))),
                cancer_types_file=Path(
                    read.text(env, "CANCER_TYPES_FILE", str(cls.cancer_types_file))
                ),
                phone_region=read.text(env, "PHONE_DEFAULT_REGION", cls.phone_region),
                reception_timeout_seconds=read.seconds(
                    env, "RECEPTION_TIMEOUT_SECONDS", cls.reception_timeout_seconds
                ),
                bot_url=read.local_url(env, "BOT_URL", "BOT_PORT", BOT_PORT),
                uploads_public_url=read.url(env, "UPLOADS_PUBLIC_URL", cls.uploads_public_url),
                database_url=read.text(env, "ACTIONS_DATABASE_URL", cls.database_url),
                instance_name=read.text(
                    env, "ACTIONS_INSTANCE_NAME", f"actions@{socket.gethostname()}"
                ),
                handoff_wait_seconds=read.seconds(
                    env, "HANDOFF_WAIT_SECONDS", cls.handoff_wait_seconds
                ),
                host=read.text(env, "ACTIONS_HOST", cls.host),
                port=read.port(env, "ACTIONS_PORT", cls.port),
                outbox_keep_days=read.number(env, "ACTIONS_OUTBOX_KEEP_DAYS", cls.outbox_keep_days),
            )
        except read.EnvError as error:
            raise SettingsError(str(error)) from None

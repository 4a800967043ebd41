"""The action server's settings: the only place in actions/ that reads the environment."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/actions.db"


class SettingsError(ValueError):
    """A setting is missing or has a value the action server cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where reception, the bot, the content and the outbox are, and how to reach them."""

    reception_url: str
    reception_api_token: str
    content_dir: Path
    cancer_types_file: Path
    phone_region: str
    reception_timeout_seconds: float
    bot_url: str = "http://127.0.0.1:8000"
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
        return cls(
            reception_url=env.get("RECEPTION_URL", "http://127.0.0.1:8080").rstrip("/"),
            reception_api_token=env.get("RECEPTION_API_TOKEN", "").strip(),
            content_dir=Path(env.get("CONTENT_DIR") or PROJECT_ROOT / "content"),
            cancer_types_file=Path(
                env.get("CANCER_TYPES_FILE") or PROJECT_ROOT / "data" / "cancer_types.yml"
            ),
            phone_region=env.get("PHONE_DEFAULT_REGION", "BE"),
            reception_timeout_seconds=_number(env, "RECEPTION_TIMEOUT_SECONDS", 10.0),
            bot_url=(
                env.get("BOT_URL", "").strip().rstrip("/")
                or f"http://127.0.0.1:{env.get('BOT_PORT', '8000')}"
            ),
            database_url=env.get("ACTIONS_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            instance_name=(
                env.get("ACTIONS_INSTANCE_NAME", "").strip() or f"actions@{socket.gethostname()}"
            ),
            handoff_wait_seconds=_number(env, "HANDOFF_WAIT_SECONDS", 5.0),
            host=env.get("ACTIONS_HOST", "").strip() or "127.0.0.1",
            port=int(_number(env, "ACTIONS_PORT", 5055)),
            outbox_keep_days=_number(env, "ACTIONS_OUTBOX_KEEP_DAYS", 7.0),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    """Read a positive number, or explain which variable is wrong."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}.") from None
    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, not {raw!r}.")
    return value

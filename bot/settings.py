"""The bot's settings: the only place in bot/ that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """How the bot listens to patients and where Rasa is."""

    host: str
    port: int
    rasa_url: str
    rasa_timeout_seconds: float
    content_dir: Path
    telegram_bot_token: str | None
    telegram_api_base_url: str | None
    telegram_poll_timeout_seconds: int
    chat_messages_per_minute: float = 20
    reception_api_token: str | None = None

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs only when a bot token is configured."""
        return bool(self.telegram_bot_token)

    @classmethod
    def from_env(cls) -> Settings:
        """Build the settings from environment variables, with local defaults."""
        env = os.environ
        return cls(
            host=env.get("BOT_HOST", "127.0.0.1"),
            port=int(env.get("BOT_PORT", "8000")),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_timeout_seconds=float(env.get("RASA_TIMEOUT_SECONDS", "30")),
            content_dir=Path(env.get("CONTENT_DIR", PROJECT_ROOT / "content")),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            telegram_poll_timeout_seconds=int(env.get("TELEGRAM_POLL_TIMEOUT_SECONDS", "10")),
            chat_messages_per_minute=float(env.get("CHAT_MESSAGES_PER_MINUTE", "20")),
            reception_api_token=env.get("RECEPTION_API_TOKEN") or None,
        )

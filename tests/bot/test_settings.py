"""The bot's settings: defaults declared once, and bad values named in the error."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

BASE = {"RECEPTION_API_TOKEN": "t"}


def test_defaults_are_the_fields_defaults() -> None:
    settings = Settings.from_env({**BASE, "BOT_INSTANCE_NAME": "bot"})
    assert settings == Settings(reception_api_token="t")
    assert (settings.port, settings.rasa_url, settings.rasa_timeout_seconds) == (
        8000,
        "http://127.0.0.1:5005",
        30.0,
    )
    assert (settings.reception_url, settings.uploads_url) == (
        "http://127.0.0.1:8080",
        "http://localhost:8090",
    )


def test_values_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "BOT_PORT": "8123",
            "RASA_URL": "http://rasa:5005/",
            "TELEGRAM_POLL_TIMEOUT_SECONDS": "3",
            "BOT_OUTBOX_KEEP_DAYS": "0.5",
            "RECEPTION_URL": "http://reception:8080/",
            "UPLOADS_PUBLIC_URL": "https://records.example.org/",
        }
    )
    assert (settings.port, settings.rasa_url) == (8123, "http://rasa:5005")
    assert (settings.reception_url, settings.uploads_url) == (
        "http://reception:8080",
        "https://records.example.org",
    )
    assert (settings.telegram_poll_timeout_seconds, settings.outbox_keep_days) == (3, 0.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_PORT", "eighty"),
        ("BOT_PORT", "70000"),
        ("RASA_URL", "rasa:5005"),
        ("RECEPTION_URL", "reception:8080"),
        ("UPLOADS_PUBLIC_URL", "records.example.org"),
        ("RASA_TIMEOUT_SECONDS", "0"),
        ("TELEGRAM_POLL_TIMEOUT_SECONDS", "1.5"),
        ("CHAT_MESSAGES_PER_MINUTE", "nan"),
        ("BOT_OUTBOX_KEEP_DAYS", "-1"),
    ],
)
def test_bad_values_name_their_variable_and_value(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{name} must .*{value!r}"):
        Settings.from_env({**BASE, name: value})

"""The action server's settings: defaults declared once, and bad values named in the error."""

from __future__ import annotations

import pytest

from actions.settings import Settings, SettingsError

BASE = {"RECEPTION_API_TOKEN": "t"}


def test_defaults_are_the_fields_defaults() -> None:
    settings = Settings.from_env({**BASE, "ACTIONS_INSTANCE_NAME": "actions"})
    assert settings == Settings(reception_api_token="t")
    assert (settings.reception_url, settings.bot_url, settings.port) == (
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8000",
        5055,
    )


def test_the_bot_url_follows_bot_port_unless_given() -> None:
    assert Settings.from_env({**BASE, "BOT_PORT": "8123"}).bot_url == "http://127.0.0.1:8123"
    env = {**BASE, "BOT_URL": "https://bot.example.org/", "BOT_PORT": "8123"}
    assert Settings.from_env(env).bot_url == "https://bot.example.org"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACTIONS_PORT", "5055.5"),
        ("RECEPTION_URL", "reception:8080"),
        ("RECEPTION_TIMEOUT_SECONDS", "soon"),
        ("HANDOFF_WAIT_SECONDS", "0"),
        ("ACTIONS_OUTBOX_KEEP_DAYS", "inf"),
        ("UPLOADS_PUBLIC_URL", "records.example.org"),
    ],
)
def test_bad_values_name_their_variable_and_value(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{name} must .*{value!r}"):
        Settings.from_env({**BASE, name: value})

"""Settings come from the environment in one place, and refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from reception.db import create_engine
from reception.settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    normalise_database_url,
)

SECRET = "a-session-secret-long-enough"
BASE = {"RECEPTION_API_TOKEN": "t", "RECEPTION_SESSION_SECRET": SECRET}


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_or_empty_token_is_a_clear_error(token: str | None) -> None:
    env = {"RECEPTION_SESSION_SECRET": SECRET}
    if token is not None:
        env["RECEPTION_API_TOKEN"] = token
    with pytest.raises(SettingsError, match="RECEPTION_API_TOKEN is not set"):
        Settings.from_env(env)


def test_empty_token_is_refused_even_when_built_directly() -> None:
    with pytest.raises(SettingsError, match="token"):
        Settings(api_token="", session_secret=SECRET)


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_missing_session_secret_is_a_clear_error(secret: str | None) -> None:
    env = {"RECEPTION_API_TOKEN": "t"}
    if secret is not None:
        env["RECEPTION_SESSION_SECRET"] = secret
    with pytest.raises(SettingsError, match="RECEPTION_SESSION_SECRET is not set"):
        Settings.from_env(env)


def test_short_session_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({**BASE, "RECEPTION_SESSION_SECRET": "short"})
    with pytest.raises(SettingsError, match="session secret"):
        Settings(api_token="t", session_secret="")


def test_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings == Settings(
        api_token="t",
        session_secret=SECRET,
        database_url=DEFAULT_DATABASE_URL,
        host="127.0.0.1",
        port=8080,
        migrate_on_start=True,
        bot_url="http://127.0.0.1:8000",
        secure_cookies=False,
    )


def test_everything_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "DATABASE_URL": "postgres://user:pw@db:5432/reception",
            "RECEPTION_HOST": "0.0.0.0",
            "RECEPTION_PORT": "9090",
            "RECEPTION_MIGRATE_ON_START": "no",
            "BOT_URL": "https://bot.example.org/",
            "RECEPTION_SECURE_COOKIES": "yes",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://user:pw@db:5432/reception"
    assert (settings.host, settings.port, settings.migrate_on_start) == ("0.0.0.0", 9090, False)
    assert (settings.bot_url, settings.secure_cookies) == ("https://bot.example.org", True)


def test_bot_url_follows_bot_port_by_default() -> None:
    assert Settings.from_env({**BASE, "BOT_PORT": "8123"}).bot_url == "http://127.0.0.1:8123"


def test_settings_are_frozen() -> None:
    settings = Settings(api_token="secret", session_secret=SECRET)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///var/reception.db", "sqlite+aiosqlite:///var/reception.db"),
        ("sqlite:////abs/reception.db", "sqlite+aiosqlite:////abs/reception.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_normalisation(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected
    assert Settings.from_env({**BASE, "DATABASE_URL": url}).database_url == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECEPTION_PORT", "http"),
        ("RECEPTION_PORT", "70000"),
        ("RECEPTION_PORT", "0"),
        ("RECEPTION_MIGRATE_ON_START", "maybe"),
        ("RECEPTION_SECURE_COOKIES", "maybe"),
        ("BOT_URL", "bot:8000"),
        ("BOT_PORT", "eighty"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


async def test_engine_creates_the_sqlite_folder(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "var" / "reception.db"
    engine = create_engine(normalise_database_url(f"sqlite:///{database}"))
    try:
        assert database.parent.is_dir()
        assert make_url(str(engine.url)).database == str(database)
    finally:
        await engine.dispose()

"""Settings come from the environment in one place, and refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from reception.db import create_engine
from reception.settings import (
    DEFAULT_CONTENT_DIR,
    DEFAULT_DATABASE_URL,
    PurgeSettings,
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


def test_retention_and_login_limits_have_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.retention_days is None  # the privacy notice's period
    assert settings.retention_interval_seconds == 3600
    assert (
        settings.login_attempts_per_email,
        settings.login_attempts_per_address,
        settings.login_window_seconds,
    ) == (5, 20, 900)


def test_retention_and_login_limits_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "RECEPTION_RETENTION_DAYS": "30",
            "RECEPTION_RETENTION_INTERVAL_SECONDS": "0.5",
            "RECEPTION_LOGIN_ATTEMPTS_PER_EMAIL": "3",
            "RECEPTION_LOGIN_ATTEMPTS_PER_ADDRESS": "10",
            "RECEPTION_LOGIN_WINDOW_SECONDS": "60",
        }
    )
    assert (settings.retention_days, settings.retention_interval_seconds) == (30, 0.5)
    assert (
        settings.login_attempts_per_email,
        settings.login_attempts_per_address,
        settings.login_window_seconds,
    ) == (3, 10, 60)


@pytest.mark.parametrize(
    "change",
    [
        {"retention_days": 0},
        {"retention_days": 36_501},
        {"retention_days": True},
        {"retention_interval_seconds": 0},
        {"retention_interval_seconds": float("inf")},
        {"login_attempts_per_email": 0},
        {"login_attempts_per_address": 0},
        {"login_window_seconds": 0},
    ],
)
def test_limits_are_checked_even_when_built_directly(change: dict[str, int]) -> None:
    with pytest.raises(SettingsError):
        Settings(api_token="t", session_secret=SECRET, **change)  # type: ignore[arg-type]


def test_the_purge_command_needs_no_token() -> None:
    assert PurgeSettings.from_env({}) == PurgeSettings(
        database_url=DEFAULT_DATABASE_URL, content_dir=DEFAULT_CONTENT_DIR, retention_days=None
    )
    settings = PurgeSettings.from_env(
        {
            "DATABASE_URL": "postgres://db/r",
            "CONTENT_DIR": "/srv/content",
            "RECEPTION_RETENTION_DAYS": "7",
        }
    )
    assert settings == PurgeSettings("postgresql+asyncpg://db/r", Path("/srv/content"), 7)
    with pytest.raises(SettingsError, match="RECEPTION_RETENTION_DAYS"):
        PurgeSettings.from_env({"RECEPTION_RETENTION_DAYS": "0"})


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
        ("RECEPTION_RETENTION_DAYS", "0"),
        ("RECEPTION_RETENTION_DAYS", "-1"),
        ("RECEPTION_RETENTION_DAYS", "ninety"),
        ("RECEPTION_RETENTION_DAYS", "36501"),
        ("RECEPTION_RETENTION_DAYS", "1" + "0" * 20),
        ("RECEPTION_RETENTION_INTERVAL_SECONDS", "0"),
        ("RECEPTION_RETENTION_INTERVAL_SECONDS", "-5"),
        ("RECEPTION_RETENTION_INTERVAL_SECONDS", "nan"),
        ("RECEPTION_RETENTION_INTERVAL_SECONDS", "inf"),
        ("RECEPTION_RETENTION_INTERVAL_SECONDS", "hourly"),
        ("RECEPTION_LOGIN_ATTEMPTS_PER_EMAIL", "0"),
        ("RECEPTION_LOGIN_ATTEMPTS_PER_EMAIL", "five"),
        ("RECEPTION_LOGIN_ATTEMPTS_PER_ADDRESS", "0"),
        ("RECEPTION_LOGIN_ATTEMPTS_PER_ADDRESS", "²"),
        ("RECEPTION_LOGIN_WINDOW_SECONDS", "1.5"),
        ("RECEPTION_LOGIN_WINDOW_SECONDS", "0"),
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

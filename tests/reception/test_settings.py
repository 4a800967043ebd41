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


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_or_empty_token_is_a_clear_error(token: str | None) -> None:
    env = {} if token is None else {"RECEPTION_API_TOKEN": token}
    with pytest.raises(SettingsError, match="RECEPTION_API_TOKEN is not set"):
        Settings.from_env(env)


def test_empty_token_is_refused_even_when_built_directly() -> None:
    with pytest.raises(SettingsError, match="token"):
        Settings(api_token="")


def test_defaults() -> None:
    settings = Settings.from_env({"RECEPTION_API_TOKEN": "secret"})
    assert settings == Settings(
        api_token="secret",
        database_url=DEFAULT_DATABASE_URL,
        host="127.0.0.1",
        port=8080,
        migrate_on_start=True,
    )


def test_everything_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "RECEPTION_API_TOKEN": "secret",
            "DATABASE_URL": "postgres://user:pw@db:5432/reception",
            "RECEPTION_HOST": "0.0.0.0",
            "RECEPTION_PORT": "9090",
            "RECEPTION_MIGRATE_ON_START": "no",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://user:pw@db:5432/reception"
    assert (settings.host, settings.port, settings.migrate_on_start) == ("0.0.0.0", 9090, False)


def test_settings_are_frozen() -> None:
    settings = Settings(api_token="secret")
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
    assert Settings.from_env({"RECEPTION_API_TOKEN": "t", "DATABASE_URL": url}).database_url == (
        expected
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECEPTION_PORT", "http"),
        ("RECEPTION_PORT", "70000"),
        ("RECEPTION_PORT", "0"),
        ("RECEPTION_MIGRATE_ON_START", "maybe"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"RECEPTION_API_TOKEN": "t", name: value})


async def test_engine_creates_the_sqlite_folder(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "var" / "reception.db"
    engine = create_engine(normalise_database_url(f"sqlite:///{database}"))
    try:
        assert database.parent.is_dir()
        assert make_url(str(engine.url)).database == str(database)
    finally:
        await engine.dispose()

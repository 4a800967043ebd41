"""Secrets come from the environment only: no process starts with an empty one."""

from __future__ import annotations

import os
import subprocess

import pytest

from actions.settings import Settings as ActionsSettings
from actions.settings import SettingsError as ActionsSettingsError
from bot.settings import Settings as BotSettings
from bot.settings import SettingsError as BotSettingsError
from harness.stack import ROOT, VENV_PYTHON, free_port
from reception.settings import Settings as ReceptionSettings
from reception.settings import SettingsError as ReceptionSettingsError
from uploads.settings import Settings as UploadsSettings
from uploads.settings import SettingsError as UploadsSettingsError

SECRETS = ("RECEPTION_API_TOKEN", "RECEPTION_SESSION_SECRET", "TELEGRAM_", "RASA_API_TOKEN")


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any secret, plus the given values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRETS)}
    return {**env, "BOT_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()), **values}


@pytest.mark.parametrize(
    ("module", "values", "named"),
    [
        ("bot", {}, "RECEPTION_API_TOKEN"),
        ("bot", {"RECEPTION_API_TOKEN": "  "}, "RECEPTION_API_TOKEN"),
        (
            "bot",
            {
                "RECEPTION_API_TOKEN": "token",
                "TELEGRAM_BOT_TOKEN": "1:x",
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
            },
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            "bot",
            {
                "RECEPTION_API_TOKEN": "token",
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
                "TELEGRAM_WEBHOOK_SECRET": "short",
            },
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ("actions", {}, "RECEPTION_API_TOKEN"),
        ("reception", {}, "RECEPTION_API_TOKEN"),
        ("reception", {"RECEPTION_API_TOKEN": "token"}, "RECEPTION_SESSION_SECRET"),
        ("uploads", {}, "RECEPTION_API_TOKEN"),
    ],
    ids=[
        "bot-no-token",
        "bot-blank-token",
        "bot-webhook-no-secret",
        "bot-webhook-weak-secret",
        "actions-no-token",
        "reception-no-token",
        "reception-no-session-secret",
        "uploads-no-token",
    ],
)
def test_a_process_refuses_to_start_without_its_secret(
    module: str, values: dict[str, str], named: str
) -> None:
    """It exits at once with status 2 and says which variable to set."""
    result = subprocess.run(
        [str(VENV_PYTHON), "-m", module],
        cwd=ROOT,
        env=environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert named in result.stderr


def test_no_settings_class_has_a_default_secret() -> None:
    """Built from an empty environment, every process's settings refuse to exist."""
    for settings, error in (
        (BotSettings, BotSettingsError),
        (ActionsSettings, ActionsSettingsError),
        (ReceptionSettings, ReceptionSettingsError),
        (UploadsSettings, UploadsSettingsError),
    ):
        with pytest.raises(error):
            settings.from_env({})


def test_production_runs_need_every_secret_given(tmp_path: object) -> None:
    """`make run` makes up local secrets for development only, never with APP_ENV=production."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "run"), "--help"],
        cwd=ROOT,
        env=environment(APP_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "RECEPTION_API_TOKEN" in result.stderr

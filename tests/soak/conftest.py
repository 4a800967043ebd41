"""The soak tests' own stack and Telegram emulator: they stop and kill processes, and load them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator

SOAK_TOKEN = "737373:soak-test-token"


@pytest.fixture(scope="session")
def soak_telegram() -> Iterator[TelegramEmulator]:
    """A Bot API emulator for the soak stack."""
    with TelegramEmulator(token=SOAK_TOKEN) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def soak_stack(
    soak_telegram: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Rasa, the action server, reception and the bot, for the soak tests only."""
    running = Stack(
        workdir=Path(tmp_path_factory.mktemp("soak-stack")),
        telegram_token=SOAK_TOKEN,
        telegram_base_url=soak_telegram.base_url,
        extra_env={"CHAT_MESSAGES_PER_MINUTE": "60"},
    )
    running.start()
    yield running
    running.stop()

"""Fixtures shared by the whole suite: one Telegram emulator and one running stack per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.safety import SafetyFilter
from contentlib import ContentStore
from harness.stack import ROOT, Stack
from harness.telegram_emulator import TelegramEmulator

TELEGRAM_TOKEN = "424242:TEST-token-for-the-emulator"


@pytest.fixture(scope="session")
def content() -> ContentStore:
    """The editors' content, as the processes read it."""
    return ContentStore(ROOT / "content")


@pytest.fixture(scope="session")
def safety() -> SafetyFilter:
    """The safety pre-filter, loaded from content like the bot does."""
    return SafetyFilter.load(ROOT / "content" / "safety.yml")


@pytest.fixture(scope="session")
def telegram() -> Iterator[TelegramEmulator]:
    """A Telegram Bot API emulator on loopback, shared by the session."""
    emulator = TelegramEmulator(token=TELEGRAM_TOKEN)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def stack(telegram: TelegramEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa, the action server, reception and the bot, started once for the session."""
    running = Stack(
        workdir=Path(tmp_path_factory.mktemp("stack")),
        telegram_token=TELEGRAM_TOKEN,
        telegram_base_url=telegram.base_url,
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def reception_api(stack: Stack) -> Iterator[httpx.Client]:
    """An authenticated client for the running reception's API."""
    headers = {"Authorization": f"Bearer {stack.reception_token}"}
    with httpx.Client(base_url=stack.url("reception"), headers=headers, timeout=10) as client:
        yield client

"""The Telegram commands: each stands for an intent of the assistant, and the help lists them."""

from __future__ import annotations

import pytest
import yaml

from bot.telegram_handlers import COMMANDS
from contentlib import ContentStore
from harness.stack import ROOT

RASA_DEFAULT_INTENTS = {"restart"}  # answered by Rasa itself


def test_every_command_is_an_intent_of_the_domain() -> None:
    domain = yaml.safe_load((ROOT / "data" / "domain" / "intents.yml").read_text())
    intents = set(domain["intents"]) | RASA_DEFAULT_INTENTS
    assert {message.removeprefix("/") for message in COMMANDS.values()} <= intents
    assert COMMANDS["records"] == "/send_records"


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_help_lists_every_command(content: ContentStore, language: str) -> None:
    help_text = content.text("help", language)
    assert [command for command in COMMANDS if f"/{command}" not in help_text] == []

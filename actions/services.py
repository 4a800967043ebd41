"""What every action needs, built once per process from the settings."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.reception_client import ReceptionClient
from actions.settings import Settings
from actions.taxonomy import CancerTaxonomy
from contentlib import ContentStore


@cache
def settings() -> Settings:
    """The action server's settings."""
    return Settings.from_env()


@cache
def content() -> ContentStore:
    """The editors' content."""
    return ContentStore(settings().content_dir)


@cache
def taxonomy() -> CancerTaxonomy:
    """The cancer-type taxonomy."""
    return CancerTaxonomy.load(settings().cancer_types_file)


@cache
def reception() -> ReceptionClient:
    """The client for reception's ticket API."""
    current = settings()
    return ReceptionClient(
        current.reception_url, current.reception_api_token, current.reception_timeout_seconds
    )


def language_of(tracker: Tracker) -> str:
    """The patient's language, from the `language` slot."""
    return content().language_or_default(tracker.get_slot("language"))


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    buttons: list[dict[str, str]] | None = None,
    **variables: Any,
) -> None:
    """Send the patient the message `key`, rendered in their language."""
    text = content().text(key, language_of(tracker), **variables)
    dispatcher.utter_message(text=text, buttons=buttons or [])


def button(tracker: Tracker, title_key: str, payload: str) -> dict[str, str]:
    """A button whose title is the content `title_key` in the patient's language."""
    return {"title": content().text(title_key, language_of(tracker)), "payload": payload}

"""What every action needs, built once per process from the settings."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.bot_client import BotClient
from actions.courier import Courier
from actions.reception_client import ReceptionClient
from actions.settings import Settings
from actions.taxonomy import CancerTaxonomy
from contentlib import ContentStore
from outbox import Outbox, create_engine, upgrade

Button = dict[str, str]

MENU = (
    ("menu.why", "/ask_why"),
    ("menu.how", "/ask_how"),
    ("menu.start", "/start_request"),
    ("menu.questions", "/ask_questions"),
    ("menu.human", "/request_human"),
)


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


_running: list[Courier] = []


async def start_courier() -> Courier:
    """Open (and migrate) the outbox and start delivering it; once per process."""
    current = settings()
    engine = create_engine(current.database_url)
    await upgrade(engine)
    bot = BotClient(current.bot_url, current.reception_api_token, current.reception_timeout_seconds)
    started = Courier(
        Outbox(engine, worker_id=current.instance_name),
        reception(),
        bot,
        content(),
        current.handoff_wait_seconds,
        current.outbox_keep_days * 86_400,
    )
    await started.start()
    _running.append(started)
    return started


async def stop_courier() -> None:
    """Stop delivering and close the outbox; undelivered work stays for the next start."""
    while _running:
        stopped = _running.pop()
        await stopped.stop()
        await stopped.outbox.engine.dispose()


def courier() -> Courier:
    """The running courier: what actions hand to reception goes through it."""
    if not _running:
        raise RuntimeError("the courier is not running: start the server with `python -m actions`")
    return _running[-1]


def language_of(tracker: Tracker) -> str:
    """The patient's language, from the `language` slot."""
    return content().language_or_default(tracker.get_slot("language"))


def text(tracker: Tracker, key: str, **variables: Any) -> str:
    """The message `key`, rendered in the patient's language."""
    return content().text(key, language_of(tracker), **variables)


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    buttons: list[Button] | None = None,
    **variables: Any,
) -> None:
    """Send the patient the message `key`, rendered in their language."""
    dispatcher.utter_message(text=text(tracker, key, **variables), buttons=buttons or [])


def payload(intent: str, **entities: str) -> str:
    """A button payload that Rasa reads as `intent` with these entities."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}"


def button(tracker: Tracker, title_key: str, target: str) -> Button:
    """A button whose title is the content `title_key` in the patient's language."""
    return {"title": text(tracker, title_key), "payload": target}


def menu_buttons(tracker: Tracker) -> list[Button]:
    """The main menu, one button per thing the assistant can do."""
    return [button(tracker, key, target) for key, target in MENU]


def in_form(tracker: Tracker) -> bool:
    """Tell whether the request form is running."""
    return bool((tracker.active_loop or {}).get("name"))


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    """The intent of the patient's latest message, and its confidence."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def entities(tracker: Tracker, name: str) -> list[str]:
    """The values of one entity in the patient's latest message, most confident first."""
    found = [
        e
        for e in (tracker.latest_message or {}).get("entities") or []
        if e.get("entity") == name and e.get("value") is not None
    ]
    found.sort(key=lambda e: -float(e.get("confidence_entity") or 1.0))
    return [str(e["value"]) for e in found]


def entity(tracker: Tracker, name: str) -> str | None:
    """The most confident value of an entity in the patient's latest message, if any."""
    return next(iter(entities(tracker, name)), None)

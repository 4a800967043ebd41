"""The Rasa client: the only code in bot/ that speaks HTTP to Rasa."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

# Rasa's REST channel with metadata (rasa_extensions/channel.py).
WEBHOOK_PATH = "/webhooks/patient/webhook"


class RasaUnavailable(Exception):
    """Rasa could not be reached or gave an answer we cannot read."""


@dataclass(frozen=True)
class Button:
    """A choice offered to the patient: what it says, and what Rasa receives when tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message from the assistant, with its buttons."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


def _reply_from(message: dict[str, Any]) -> Reply | None:
    """Read one message of Rasa's REST answer, skipping what has neither text nor buttons."""
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in message.get("buttons") or []
        if b.get("payload")
    )
    text = str(message.get("text") or "")
    if not text and not buttons:
        return None
    return Reply(text=text, buttons=buttons)


@dataclass(frozen=True)
class RasaClient:
    """Send a patient's message to Rasa's REST channel and read the replies."""

    base_url: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 30.0

    async def send(
        self, sender_id: str, message: str, metadata: dict[str, str] | None = None
    ) -> list[Reply]:
        """Send one message for one conversation; return the assistant's replies."""
        url = f"{self.base_url}{WEBHOOK_PATH}"
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        body = {"sender": sender_id, "message": message, "metadata": metadata or {}}
        try:
            async with self.session.post(url, json=body, timeout=timeout) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"Rasa unreachable: {error.__class__.__name__}") from error
        if not isinstance(body, list):
            raise RasaUnavailable("Rasa answered something other than a list of messages")
        return [reply for message in body if (reply := _reply_from(message))]

"""The Rasa client: the only code in bot/ that speaks HTTP to Rasa."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

# Rasa's REST channel with metadata (rasa_extensions/channel.py).
WEBHOOK_PATH = "/webhooks/patient/webhook"
# The custom message with which the actions say that the patient's data was erased.
ERASE_INSTRUCTION = "erase_conversation"


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
    link_previews: bool = True  # False for a link only the patient may open (Telegram's
    # servers open the links of a message to show a preview)


@dataclass(frozen=True)
class Answer:
    """Everything Rasa answered to one message: what to show, and what to do."""

    replies: list[Reply]
    erase_conversation: bool = False
    language: str | None = None


def _reply_from(message: dict[str, Any]) -> Reply | None:
    """Read one message of Rasa's REST answer, skipping what has neither text nor buttons."""
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in message.get("buttons") or []
        if isinstance(b, dict) and b.get("payload")
    )
    text = str(message.get("text") or "")
    if not text and not buttons:
        return None
    return Reply(text=text, buttons=buttons, link_previews=_link_previews(message))


def _link_previews(message: dict[str, Any]) -> bool:
    """False when the actions ask to show a message's links without a preview."""
    custom = message.get("custom")
    reply = custom.get("reply") if isinstance(custom, dict) else None
    return not (isinstance(reply, dict) and reply.get("link_previews") is False)


def _language(messages: list[dict[str, Any]]) -> str | None:
    """The conversation's language, as our Rasa channel reports it after every answer."""
    for message in messages:
        custom = message.get("custom")
        conversation = custom.get("conversation") if isinstance(custom, dict) else None
        if isinstance(conversation, dict) and isinstance(conversation.get("language"), str):
            return str(conversation["language"])
    return None


def _erases(message: dict[str, Any]) -> bool:
    """Tell whether a message is the actions' instruction to forget the conversation here."""
    custom = message.get("custom")
    return isinstance(custom, dict) and custom.get(ERASE_INSTRUCTION) is True


@dataclass(frozen=True)
class RasaClient:
    """Send a patient's message to Rasa's REST channel and read the replies."""

    base_url: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 30.0

    async def send(
        self,
        sender_id: str,
        message: str,
        metadata: dict[str, str] | None = None,
        message_id: str | None = None,
        redelivered: bool = False,
    ) -> Answer:
        """Send one message for one conversation; return the assistant's answer.

        A message sent again after the bot was interrupted (`redelivered`) with the same
        `message_id` is not processed twice: Rasa answers what it answered the first time.
        """
        url = f"{self.base_url}{WEBHOOK_PATH}"
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        body: dict[str, Any] = {"sender": sender_id, "message": message, "metadata": metadata or {}}
        if message_id:
            body["message_id"] = message_id
            body["redelivered"] = redelivered
        try:
            async with self.session.post(url, json=body, timeout=timeout) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise RasaUnavailable(f"Rasa unreachable: {error.__class__.__name__}") from error
        if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
            raise RasaUnavailable("Rasa answered something other than a list of messages")
        return Answer(
            replies=[reply for message in body if (reply := _reply_from(message))],
            erase_conversation=any(_erases(message) for message in body),
            language=_language(body),
        )

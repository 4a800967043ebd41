"""Our REST channel: Rasa's, plus the metadata the bot sends, and whole messages.

Rasa's own REST channel splits every text message at blank lines into several messages,
which breaks a formatted answer into pieces, sends a text's custom part as a message of its own,
and logs the patient's text when processing fails. This one keeps each message whole (its text,
buttons and custom part together, as the tracker stores it) and never logs what the patient wrote.

Every answer ends with a message that carries no text, only the conversation's current
language (`{"custom": {"conversation": {"language": "fr"}}}`), so that the bot's own notices
(the emergency numbers, "temporarily unavailable") use the language the patient chose.

A message carries the bot's `message_id`. When the bot sends a message again because it was
interrupted before it could store the answer (`"redelivered": true`), and the conversation
already holds a message with that id, the message is not processed a second time: the
answers it got are read back from the tracker instead.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

ALLOWED_METADATA = ("language", "chat_type")
LANGUAGE_SLOT = "language"
MESSAGE_ID_LENGTH = 128
REPLAYED_FIELDS = ("buttons", "custom", "image", "attachment", "elements", "quick_replies")


def replies_to(events: list[dict[str, Any]], message_id: str, recipient_id: str) -> list | None:
    """What the assistant answered the user message with this id, or None if it has none."""
    start = next(
        (
            index
            for index, event in enumerate(events)
            if event.get("event") == "user" and event.get("message_id") == message_id
        ),
        None,
    )
    if start is None:
        return None
    replies = []
    for event in events[start + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") != "bot":
            continue
        data = event.get("data") or {}
        message: dict[str, Any] = {"recipient_id": recipient_id}
        if event.get("text"):
            message["text"] = event["text"]
        message.update({key: data[key] for key in REPLAYED_FIELDS if data.get(key)})
        replies.append(message)
    return replies


class WholeMessageCollector(CollectingOutputChannel):
    """Collect the assistant's messages without splitting them at blank lines."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep a text with its custom part (how to show it) in one message, as it is stored."""
        custom = message.get("custom")
        if not (message.get("text") and isinstance(custom, dict) and custom):
            await super().send_response(recipient_id, message)
            return
        whole = self._message(
            recipient_id,
            text=message["text"],
            buttons=message.get("buttons") or None,
            custom=custom,
        )
        await self._persist_message(whole)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Keep a text message in one piece."""
        await self._persist_message(self._message(recipient_id, text=text))


class MetadataRestInput(RestInput):
    """`POST /webhooks/patient/webhook` with {"sender", "message", "metadata"}."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, which is also its URL segment."""
        return "patient"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Keep only the metadata keys the dialogue uses."""
        metadata = (request.json or {}).get("metadata")
        if not isinstance(metadata, dict):
            return None
        return {key: str(metadata[key])[:16] for key in ALLOWED_METADATA if key in metadata}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The health and webhook endpoints."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            message_id = self._message_id(request)
            if message_id and (request.json or {}).get("redelivered") is True:
                replayed = await self._replay(request, sender_id, message_id)
                if replayed is not None:
                    logger.info("a redelivered message was answered from the tracker")
                    return response.json(replayed + await self._language(request, sender_id))
            collector = WholeMessageCollector()
            message = UserMessage(
                self._extract_message(request),
                collector,
                sender_id,
                input_channel=self.name(),
                message_id=message_id,
                metadata=self.get_metadata(request),
            )
            try:
                await on_new_message(message)
            except CancelledError:
                logger.error("processing a message timed out")
            except Exception as error:
                logger.error("processing a message failed: %s", error.__class__.__name__)
            return response.json(collector.messages + await self._language(request, sender_id))

        return webhook

    @staticmethod
    def _message_id(request: Request) -> str | None:
        """The bot's id of the message, if it sent a usable one."""
        message_id = (request.json or {}).get("message_id")
        if isinstance(message_id, str) and 0 < len(message_id) <= MESSAGE_ID_LENGTH:
            return message_id
        return None

    @staticmethod
    async def _tracker(request: Request, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's tracker as stored, or None if it cannot be read."""
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return None
        try:
            return await agent.tracker_store.retrieve(sender_id)
        except Exception as error:
            logger.error("reading a tracker failed: %s", error.__class__.__name__)
            return None

    async def _language(self, request: Request, sender_id: str) -> list[dict[str, Any]]:
        """The message that tells the bot the conversation's language (none if unknown)."""
        tracker = await self._tracker(request, sender_id)
        language = tracker.get_slot(LANGUAGE_SLOT) if tracker is not None else None
        if not language:
            return []
        conversation = {"language": str(language)}
        return [{"recipient_id": sender_id, "custom": {"conversation": conversation}}]

    async def _replay(self, request: Request, sender_id: str, message_id: str) -> list | None:
        """The answers already given to this message, read from the conversation's tracker."""
        tracker = await self._tracker(request, sender_id)
        if tracker is None:
            return None
        events = [event.as_dict() for event in tracker.events]
        return replies_to(events, message_id, sender_id)

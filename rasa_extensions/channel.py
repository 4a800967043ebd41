"""Our REST channel: Rasa's, plus the metadata the bot sends, and whole messages.

Rasa's own REST channel splits every text message at blank lines into several messages,
which breaks a formatted answer into pieces, and logs the patient's text when processing
fails. This one keeps each message whole and never logs what the patient wrote.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

ALLOWED_METADATA = ("language", "chat_type")


class WholeMessageCollector(CollectingOutputChannel):
    """Collect the assistant's messages without splitting them at blank lines."""

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
            collector = WholeMessageCollector()
            message = UserMessage(
                self._extract_message(request),
                collector,
                await self._extract_sender(request),
                input_channel=self.name(),
                metadata=self.get_metadata(request),
            )
            try:
                await on_new_message(message)
            except CancelledError:
                logger.error("processing a message timed out")
            except Exception as error:
                logger.error("processing a message failed: %s", error.__class__.__name__)
            return response.json(collector.messages)

        return webhook

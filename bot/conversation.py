"""What every channel does with a patient's message: ask Rasa, never leave them in silence."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.rasa_client import RasaClient, RasaUnavailable, Reply
from contentlib import ContentStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    """The channel-independent path from a patient's message to the assistant's replies."""

    rasa: RasaClient
    content: ContentStore

    async def respond(self, sender_id: str, message: str, language: str | None) -> list[Reply]:
        """Return the assistant's replies, or a clear 'unavailable' message if Rasa is down."""
        try:
            return await self.rasa.send(sender_id, message)
        except RasaUnavailable as error:
            logger.error(
                "rasa unavailable for a %s conversation: %s", sender_id.split(":")[0], error
            )
            return [self.notice("service_unavailable", language)]

    def notice(self, key: str, language: str | None) -> Reply:
        """A message from content, without asking Rasa."""
        return Reply(text=self.content.text(key, language))

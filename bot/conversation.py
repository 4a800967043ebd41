"""What every channel does with a patient's message: safety first, then Rasa, never silence."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.rasa_client import RasaClient, RasaUnavailable, Reply
from bot.safety import Danger, SafetyFilter
from contentlib import ContentStore

logger = logging.getLogger(__name__)

RESTART = "/restart"
GREET = "/greet"
EMERGENCY_KEYS = {Danger.MEDICAL: "emergency_medical", Danger.DISTRESS: "emergency_distress"}


@dataclass(frozen=True)
class Conversation:
    """The channel-independent path from a patient's message to the assistant's replies."""

    rasa: RasaClient
    content: ContentStore
    safety: SafetyFilter

    async def respond(
        self, sender_id: str, message: str, language: str | None, chat_type: str = "private"
    ) -> list[Reply]:
        """Return the assistant's replies: emergency help first, or Rasa's answer."""
        danger = self.safety.check(message)
        if danger is not None:
            logger.info("emergency words in a %s conversation", sender_id.split(":")[0])
            return [
                self.notice(EMERGENCY_KEYS[danger], language),
                self.notice("emergency_continue", language),
            ]
        metadata = {"chat_type": chat_type}
        if language:
            metadata["language"] = language
        try:
            replies = await self.rasa.send(sender_id, message, metadata)
            if message.strip() == RESTART:
                replies += await self.rasa.send(sender_id, GREET, metadata)
        except RasaUnavailable as error:
            logger.error(
                "rasa unavailable for a %s conversation: %s", sender_id.split(":")[0], error
            )
            return [self.notice("service_unavailable", language)]
        if not replies:
            logger.error("rasa gave no reply in a %s conversation", sender_id.split(":")[0])
            return [self.notice("service_unavailable", language)]
        return replies

    def notice(self, key: str, language: str | None) -> Reply:
        """A message from content, without asking Rasa."""
        return Reply(text=self.content.text(key, language))

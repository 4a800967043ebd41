"""What every channel does with a patient's message: safety first, then Rasa, never silence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.rasa_client import RasaClient, RasaUnavailable, Reply
from bot.safety import Danger, SafetyFilter
from contentlib import ContentStore

logger = logging.getLogger(__name__)

RESTART = "/restart"
GREET = "/greet"
EMERGENCY_KEYS = {Danger.MEDICAL: "emergency_medical", Danger.DISTRESS: "emergency_distress"}

# Forget what the bot itself keeps of a conversation (its outbox), given its sender id.
Forget = Callable[[str], Awaitable[None]]


async def _forget_nothing(sender_id: str) -> None:
    """Keep nothing to forget (a bot without an outbox, in tests)."""


@dataclass(frozen=True)
class Conversation:
    """The channel-independent path from a patient's message to the assistant's replies."""

    rasa: RasaClient
    content: ContentStore
    safety: SafetyFilter
    forget: Forget = _forget_nothing

    async def respond(
        self,
        sender_id: str,
        message: str,
        language: str | None,
        chat_type: str = "private",
        message_id: str | None = None,
        redelivered: bool = False,
    ) -> list[Reply]:
        """Return the assistant's replies: emergency help first, or Rasa's answer.

        When the patient's data was just erased, the bot forgets its own copy of the
        conversation too, before the confirmation is sent.
        """
        danger = self.safety.check(message)
        if danger is not None:
            logger.info("emergency words in a %s conversation", _channel(sender_id))
            return [
                self.notice(EMERGENCY_KEYS[danger], language),
                self.notice("emergency_continue", language),
            ]
        metadata = {"chat_type": chat_type}
        if language:
            metadata["language"] = language
        try:
            answer = await self.rasa.send(sender_id, message, metadata, message_id, redelivered)
            replies = list(answer.replies)
            if message.strip() == RESTART:
                replies += (await self.rasa.send(sender_id, GREET, metadata)).replies
        except RasaUnavailable as error:
            logger.error("rasa unavailable for a %s conversation: %s", _channel(sender_id), error)
            return [self.notice("service_unavailable", language)]
        if answer.erase_conversation:
            await self.forget(sender_id)
            logger.info(
                "a %s conversation was erased at the patient's request", _channel(sender_id)
            )
        if not replies:
            logger.error("rasa gave no reply in a %s conversation", _channel(sender_id))
            return [self.notice("service_unavailable", language)]
        return replies

    def notice(self, key: str, language: str | None) -> Reply:
        """A message from content, without asking Rasa."""
        return Reply(text=self.content.text(key, language))


def _channel(sender_id: str) -> str:
    """The channel part of a sender id, the only part of it fit for the logs."""
    return sender_id.split(":")[0]

"""The bot client: the only code in reception/ that speaks HTTP to the bot."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from deliveries import PatientMessage, deliver, refused_for_good
from httpjson import JsonService, Unreachable

from .wording import CodedError

logger = logging.getLogger(__name__)


class DeliveryFailed(CodedError):
    """The bot could not pass a message on to the patient: it was unreachable, or refused."""

    @property
    def lasting(self) -> bool:
        """Tell whether trying again cannot help: the bot refused the message itself (4xx)."""
        status = self.data.get("status")
        return isinstance(status, int) and refused_for_good(status)


@dataclass(frozen=True)
class BotClient:
    """Ask the bot to deliver reception's messages to patients on their own channel."""

    base_url: str
    api_token: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 10.0

    async def deliver(self, message: PatientMessage, idempotency_key: str) -> None:
        """Deliver one message to the patient behind a ticket, or raise DeliveryFailed.

        The bot delivers a key once: asking again with it after a lost answer is harmless.
        """
        bot = JsonService(self.base_url, self.api_token, self.timeout_seconds, self.session)
        try:
            answer = await deliver(bot, message, idempotency_key)
        except Unreachable as exc:
            logger.warning("bot unreachable for a delivery: %s", exc)
            raise DeliveryFailed("bot_unreachable") from exc
        if answer.status >= 300:
            logger.warning("bot refused a delivery with HTTP %d", answer.status)
            raise DeliveryFailed("bot_refused", status=answer.status, reason=answer.error_message())

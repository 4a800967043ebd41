"""The bot client: the only code in actions/ that speaks HTTP to the bot.

The action server uses it to tell a patient, outside a conversation turn, that a request
saved while reception was unreachable has now arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from deliveries import PatientMessage, deliver, refused_for_good
from httpjson import JsonService, Unreachable


class BotUnavailable(Exception):
    """The bot could not be reached, or could not take the message now."""


class BotRefused(BotUnavailable):
    """The bot refused the message for good (a 4xx that retrying won't fix)."""


@dataclass(frozen=True)
class BotClient:
    """Deliver the assistant's own messages to patients through the bot's delivery endpoint."""

    base_url: str
    api_token: str
    timeout_seconds: float = 10.0

    async def deliver(self, message: PatientMessage, idempotency_key: str) -> None:
        """Hand one message to the bot, which keeps it until the patient's channel takes it."""
        bot = JsonService(self.base_url, self.api_token, self.timeout_seconds)
        try:
            answer = await deliver(bot, message, idempotency_key)
        except Unreachable as error:
            raise BotUnavailable(f"the bot is unreachable: {error}") from error
        if answer.ok:
            return
        if refused_for_good(answer.status):
            raise BotRefused(f"the bot refused it with HTTP {answer.status}")
        raise BotUnavailable(f"the bot answered HTTP {answer.status}")

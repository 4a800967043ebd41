"""The bot client: the only code in actions/ that speaks HTTP to the bot.

The action server uses it to tell a patient, outside a conversation turn, that a request
saved while reception was unreachable has now arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

DELIVERIES_PATH = "/api/v1/deliveries"
# Answers that may go away by themselves (wrong token, Telegram off, bot starting).
TRANSIENT_STATUSES = frozenset({401, 403, 404, 408, 429})


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

    async def deliver(
        self,
        *,
        channel: str,
        address: str,
        text: str,
        reference: str,
        language: str,
        idempotency_key: str,
    ) -> None:
        """Hand one message to the bot, which keeps it until the patient's channel takes it."""
        body = {
            "channel": channel,
            "address": address,
            "text": text,
            "reference": reference,
            "language": language,
            "sender": "assistant",
        }
        headers = {
            "Authorization": f"Bearer {self.api_token}",
            "Idempotency-Key": idempotency_key,
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    f"{self.base_url}{DELIVERIES_PATH}", json=body, headers=headers
                ) as response,
            ):
                if response.status < 300:
                    return
                if 400 <= response.status < 500 and response.status not in TRANSIENT_STATUSES:
                    raise BotRefused(f"the bot refused it with HTTP {response.status}")
                raise BotUnavailable(f"the bot answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise BotUnavailable(f"the bot is unreachable: {type(error).__name__}") from error

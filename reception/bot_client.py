"""The bot client: the only code in reception/ that speaks HTTP to the bot."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from .wording import CodedError

logger = logging.getLogger(__name__)

DELIVERIES_PATH = "/api/v1/deliveries"


class DeliveryFailed(CodedError):
    """The bot could not pass a message on to the patient: it was unreachable, or refused."""


@dataclass(frozen=True)
class BotClient:
    """Ask the bot to deliver reception's messages to patients on their own channel."""

    base_url: str
    api_token: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 10.0

    async def deliver(
        self, *, channel: str, address: str, text: str, reference: str, language: str
    ) -> None:
        """Deliver one message to the patient behind a ticket, or raise DeliveryFailed."""
        body = {
            "channel": channel,
            "address": address,
            "text": text,
            "reference": reference,
            "language": language,
        }
        headers = {"Authorization": f"Bearer {self.api_token}"}
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with self.session.post(
                f"{self.base_url}{DELIVERIES_PATH}", json=body, headers=headers, timeout=timeout
            ) as response:
                if response.status >= 300:
                    raise await _refusal(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("bot unreachable for a delivery: %s", exc.__class__.__name__)
            raise DeliveryFailed("bot_unreachable") from exc


async def _refusal(response: aiohttp.ClientResponse) -> DeliveryFailed:
    """Say that the bot refused a delivery, with its own reason when it sent a JSON error."""
    logger.warning("bot refused a delivery with HTTP %d", response.status)
    reason = ""
    try:
        body = await response.json(content_type=None)
        reason = str(body["error"]["message"])
    except (ValueError, KeyError, TypeError, aiohttp.ClientError):
        pass
    return DeliveryFailed("bot_refused", status=response.status, reason=reason.strip())

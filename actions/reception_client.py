"""The reception client: the only code in actions/ that speaks HTTP to reception."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from contentlib import questions

GAP_TIMEOUT_SECONDS = 3.0

logger = logging.getLogger(__name__)


class ReceptionUnavailable(Exception):
    """Reception could not be reached, or refused the request."""


class ReceptionRefused(ReceptionUnavailable):
    """Reception answered, and refused the request for good (a 4xx that retrying won't fix)."""

    def __init__(self, status: int) -> None:
        """Remember the HTTP status."""
        super().__init__(f"reception refused it with HTTP {status}")
        self.status = status


# Answers that may go away by themselves: a wrong token is fixed by an operator, not by us.
TRANSIENT_STATUSES = frozenset({401, 403, 404, 408, 409, 425, 429})


@dataclass(frozen=True)
class ReceptionClient:
    """Create and read tickets through reception's REST API."""

    base_url: str
    api_token: str
    timeout_seconds: float = 10.0

    def _headers(self, **extra: str) -> dict[str, str]:
        """Return the auth headers, plus any extra ones."""
        return {"Authorization": f"Bearer {self.api_token}", **extra}

    async def _request(
        self, method: str, path: str, timeout_seconds: float | None = None, **kwargs: Any
    ) -> Any:
        """Send one request and return its JSON body; raise ReceptionUnavailable on any failure."""
        timeout = aiohttp.ClientTimeout(total=timeout_seconds or self.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, f"{self.base_url}{path}", **kwargs) as response,
            ):
                if response.status not in (200, 201):
                    if 400 <= response.status < 500 and response.status not in TRANSIENT_STATUSES:
                        raise ReceptionRefused(response.status)
                    raise ReceptionUnavailable(f"reception answered HTTP {response.status}")
                return await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ReceptionUnavailable(
                f"reception unreachable: {error.__class__.__name__}"
            ) from error

    async def conversation_tickets(self, channel: str, address: str) -> list[dict[str, Any]]:
        """The tickets made from one conversation, newest first."""
        params = {"channel": channel, "channel_address": address, "limit": "10"}
        body = await self._request("GET", "/api/v1/tickets", params=params, headers=self._headers())
        return list(body.get("items") or [])

    async def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a ticket; the same idempotency key always returns the same ticket."""
        headers = self._headers(**{"Idempotency-Key": idempotency_key})
        return dict(await self._request("POST", "/api/v1/tickets", json=ticket, headers=headers))

    async def erase_conversation(self, channel: str, address: str) -> list[str]:
        """Have reception anonymise every ticket of one conversation; return their references."""
        body = {"channel": channel, "channel_address": address}
        answer = await self._request("POST", "/api/v1/erasures", json=body, headers=self._headers())
        return [str(reference) for reference in answer.get("erased") or []]

    async def report_gap(self, text: str, language: str, intent: str) -> bool:
        """Report a question the assistant did not understand, without who asked it.

        A question with a phone number or an e-mail address is dropped here and never sent.
        Return whether it was sent.
        """
        question = questions.screen(text)
        if question is None:
            return False
        body = {"text": question, "language": language, "intent": intent}
        timeout = min(self.timeout_seconds, GAP_TIMEOUT_SECONDS)
        await self._request(
            "POST", "/api/v1/gaps", json=body, headers=self._headers(), timeout_seconds=timeout
        )
        return True

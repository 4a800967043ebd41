"""The reception client: the only code in actions/ that speaks HTTP to reception."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)


class ReceptionUnavailable(Exception):
    """Reception could not be reached, or refused the request."""


@dataclass(frozen=True)
class ReceptionClient:
    """Create and read tickets through reception's REST API."""

    base_url: str
    api_token: str
    timeout_seconds: float = 10.0

    def _headers(self, **extra: str) -> dict[str, str]:
        """Return the auth headers, plus any extra ones."""
        return {"Authorization": f"Bearer {self.api_token}", **extra}

    async def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a ticket; the same idempotency key always returns the same ticket."""
        url = f"{self.base_url}/api/v1/tickets"
        headers = self._headers(**{"Idempotency-Key": idempotency_key})
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, json=ticket, headers=headers) as response,
            ):
                if response.status not in (200, 201):
                    raise ReceptionUnavailable(f"reception answered HTTP {response.status}")
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ReceptionUnavailable(f"reception unreachable: {error!r}") from error

"""The reception client: the only code in actions/ that speaks HTTP to reception."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from contentlib import questions
from httpjson import JsonService, Unreachable

GAP_TIMEOUT_SECONDS = 3.0
# A count must never hold up the patient's answer for long.
STEP_TIMEOUT_SECONDS = 1.0

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

    async def _request(
        self,
        method: str,
        path: str,
        timeout_seconds: float | None = None,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one request and return its JSON body; raise ReceptionUnavailable on any failure."""
        reception = JsonService(self.base_url, self.api_token, self.timeout_seconds)
        try:
            answer = await reception.call(
                method,
                path,
                body=body,
                params=params,
                headers=headers,
                timeout_seconds=timeout_seconds,
            )
        except Unreachable as error:
            raise ReceptionUnavailable(f"reception unreachable: {error}") from error
        if answer.status not in (200, 201):
            if 400 <= answer.status < 500 and answer.status not in TRANSIENT_STATUSES:
                raise ReceptionRefused(answer.status)
            raise ReceptionUnavailable(f"reception answered HTTP {answer.status}")
        try:
            return answer.json()
        except ValueError as error:
            raise ReceptionUnavailable("reception answered with a body that is not JSON") from error

    async def conversation_tickets(self, channel: str, address: str) -> list[dict[str, Any]]:
        """The tickets made from one conversation, newest first."""
        params = {"channel": channel, "channel_address": address, "limit": "10"}
        body = await self._request("GET", "/api/v1/tickets", params=params)
        return list(body.get("items") or [])

    async def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Create a ticket; the same idempotency key always returns the same ticket."""
        headers = {"Idempotency-Key": idempotency_key}
        return dict(await self._request("POST", "/api/v1/tickets", body=ticket, headers=headers))

    async def erase_conversation(self, channel: str, address: str) -> list[str]:
        """Have reception anonymise every ticket of one conversation; return their references."""
        body = {"channel": channel, "channel_address": address}
        answer = await self._request("POST", "/api/v1/erasures", body=body)
        return [str(reference) for reference in answer.get("erased") or []]

    async def set_follow_up(self, channel: str, address: str, state: str) -> list[str]:
        """Record whether the conversation's patient wants reminders; return the tickets changed."""
        body = {"channel": channel, "channel_address": address, "follow_up": state}
        answer = await self._request("POST", "/api/v1/follow-ups", body=body)
        return [str(reference) for reference in answer.get("changed") or []]

    async def count_step(self, step: str, language: str) -> None:
        """Add one to reception's anonymous count of conversations that reached a step."""
        body = {"step": step, "language": language}
        timeout = min(self.timeout_seconds, STEP_TIMEOUT_SECONDS)
        await self._request("POST", "/api/v1/funnel", timeout, body=body)

    async def count_topic(self, topic: str, language: str) -> None:
        """Add one to reception's anonymous count of questions about an FAQ topic."""
        body = {"topic": topic, "language": language}
        timeout = min(self.timeout_seconds, STEP_TIMEOUT_SECONDS)
        await self._request("POST", "/api/v1/topics-asked", timeout, body=body)

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
        await self._request("POST", "/api/v1/gaps", timeout, body=body)
        return True

"""The reception client: the only code in actions/ that speaks HTTP to reception."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contentlib import questions
from httpjson import Answer, JsonService, Unreachable

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


class NoOpenRequest(ReceptionRefused):
    """The conversation has no open request at reception (code `no_open_request`)."""


# Answers that may go away by themselves: a wrong token is fixed by an operator, not by us.
TRANSIENT_STATUSES = frozenset({401, 403, 404, 408, 409, 425, 429})
# What an upload link's 404 means when reception names it: a refusal, not a wrong address.
UPLOAD_LINK_REFUSALS: Mapping[str, type[ReceptionRefused]] = {"no_open_request": NoOpenRequest}


@dataclass(frozen=True)
class UploadLink:
    """The secret token of a request's upload page, and what reception says about it."""

    token: str
    expires_at: str
    reference: str
    language: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> UploadLink:
        """Read reception's answer; ReceptionUnavailable when it is not a link."""
        try:
            language = body.get("language")
            return cls(
                token=str(body["token"]),
                expires_at=str(body["expires_at"]),
                reference=str(body["reference"]),
                language=language if isinstance(language, str) else None,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ReceptionUnavailable("reception gave a link we cannot read") from error


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
        refusals: Mapping[str, type[ReceptionRefused]] | None = None,
    ) -> Any:
        """Send one request and return its JSON body; raise ReceptionUnavailable on any failure.

        An error whose code is in `refusals` raises that refusal, whatever its status.
        """
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
            refusal = (refusals or {}).get(_error_code(answer))
            if refusal is not None:
                raise refusal(answer.status)
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

    async def upload_link(self, channel: str, address: str) -> UploadLink:
        """A new upload link for the conversation's open request; the previous one stops working.

        Raise NoOpenRequest when the conversation has no open request.
        """
        body = {"channel": channel, "channel_address": address}
        answer = await self._request(
            "POST", "/api/v1/upload-links", body=body, refusals=UPLOAD_LINK_REFUSALS
        )
        return UploadLink.from_json(answer)

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


def _error_code(answer: Answer) -> str:
    """The code of reception's JSON error (`{"error": {"code": …}}`), or ""."""
    try:
        return str(answer.json()["error"]["code"]).strip()
    except (ValueError, KeyError, TypeError):
        return ""

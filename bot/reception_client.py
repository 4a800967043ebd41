"""The reception client: the only code in bot/ that speaks HTTP to reception.

The bot hands reception the files patients send on Telegram, sets their labels, and asks for
upload links for files Telegram cannot pass on. Reception answers each with JSON; a refusal
carries its code (`no_open_request`, `unsupported_type`, …), which the bot turns into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from httpjson import Answer, JsonService, Unreachable

ATTACHMENTS_PATH = "/api/v1/attachments"
UPLOAD_LINKS_PATH = "/api/v1/upload-links"
# Reception reads, checks and scans a file before it answers: give it time.
UPLOAD_TIMEOUT_SECONDS = 120.0


class ReceptionUnavailable(Exception):
    """Reception could not be reached, or could not answer now (try again later)."""


class ReceptionRefused(Exception):
    """Reception answered and refused, for a reason named by its code."""

    def __init__(self, status: int, code: str) -> None:
        """Remember the HTTP status and reception's error code."""
        super().__init__(f"reception refused it with HTTP {status} ({code})")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Attachment:
    """A file reception holds for a patient's request, as it describes it."""

    id: str
    label: str
    label_guessed: bool
    scan: str  # "clean", "infected" (quarantined) or "pending"
    language: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> Attachment:
        """Read reception's answer about one attachment."""
        try:
            item = body["attachment"]
            language = body.get("language")
            return cls(
                id=str(item["id"]),
                label=str(item["label"]),
                label_guessed=bool(item.get("label_guessed", False)),
                scan=str(item.get("scan") or "pending"),
                language=str(language) if isinstance(language, str) else None,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ReceptionUnavailable(
                "reception described the file in a way we cannot read"
            ) from error


@dataclass(frozen=True)
class UploadLink:
    """A link's secret token for the upload page of a patient's request."""

    token: str
    language: str | None = None


@dataclass(frozen=True)
class ReceptionClient:
    """Attach files to a conversation's open request, label them, and ask for upload links."""

    base_url: str
    api_token: str
    timeout_seconds: float = 10.0
    session: aiohttp.ClientSession | None = None

    async def attach(self, channel: str, address: str, data: bytes, key: str) -> Attachment:
        """Attach a file to the open request, once per key; reception guesses its label."""
        params = {"channel": channel, "channel_address": address}
        answer = await self._call(
            "POST",
            ATTACHMENTS_PATH,
            params=params,
            data=data,
            headers={"Content-Type": "application/octet-stream", "Idempotency-Key": key},
            timeout_seconds=UPLOAD_TIMEOUT_SECONDS,
        )
        return Attachment.from_json(answer)

    async def relabel(
        self, channel: str, address: str, attachment_id: str, label: str
    ) -> Attachment:
        """Set the label of one of the conversation's files (the patient's own choice)."""
        params = {"channel": channel, "channel_address": address}
        path = f"{ATTACHMENTS_PATH}/{attachment_id}"
        answer = await self._call("PATCH", path, params=params, body={"label": label})
        return Attachment.from_json(answer)

    async def upload_link(self, channel: str, address: str) -> UploadLink:
        """A new upload link for the conversation's open request (the previous one stops)."""
        body = {"channel": channel, "channel_address": address}
        answer = await self._call("POST", UPLOAD_LINKS_PATH, body=body)
        try:
            language = answer.get("language")
            return UploadLink(str(answer["token"]), language if isinstance(language, str) else None)
        except (KeyError, TypeError, AttributeError) as error:
            raise ReceptionUnavailable("reception gave a link we cannot read") from error

    async def _call(self, method: str, path: str, **request: Any) -> Any:
        """Send one request; return its JSON, or raise ReceptionRefused or ReceptionUnavailable."""
        reception = JsonService(self.base_url, self.api_token, self.timeout_seconds, self.session)
        try:
            answer = await reception.call(method, path, **request)
        except Unreachable as error:
            raise ReceptionUnavailable(f"reception unreachable: {error}") from error
        if answer.ok:
            try:
                return answer.json()
            except ValueError as error:
                raise ReceptionUnavailable(
                    "reception answered with a body that is not JSON"
                ) from error
        code = _error_code(answer)
        if 400 <= answer.status < 500 and code and answer.status not in (401, 403, 429):
            raise ReceptionRefused(answer.status, code)
        raise ReceptionUnavailable(f"reception answered HTTP {answer.status}")


def _error_code(answer: Answer) -> str:
    """The code of reception's JSON error (`{"error": {"code": …}}`), or ""."""
    try:
        return str(answer.json()["error"]["code"]).strip()
    except (ValueError, KeyError, TypeError):
        return ""

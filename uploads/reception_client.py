"""The reception client: the only code in uploads/ that speaks HTTP to reception.

Reception knows the patients' upload links (`/api/v1/upload-links/{token}`) and keeps their
files. Each answer becomes a value or one of the typed errors below; a link's token never
appears in an error or a log line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from httpjson import Answer, JsonService, Unreachable

logger = logging.getLogger(__name__)

# A file goes to reception at no less than this pace, or the call is given up and tried again.
SECONDS_PER_MIB = 2.0


class ReceptionUnavailable(Exception):
    """Reception did not answer, or answered in a way that may change: try again later."""


class LinkUnknown(Exception):
    """Reception knows no upload link with this token."""


class LinkGone(Exception):
    """The link existed but no longer takes files: it expired, or was revoked."""

    def __init__(self, code: str) -> None:
        """Keep reception's code: link_expired or link_revoked."""
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class UploadLink:
    """What reception says about a live link: its request, language, expiry and files so far."""

    reference: str
    language: str
    expires_at: str
    attachments: tuple[Mapping[str, Any], ...]

    @property
    def bytes_received(self) -> int:
        """How many bytes the request's files already take."""
        return sum(int(item.get("size") or 0) for item in self.attachments)


@dataclass(frozen=True)
class Received:
    """Reception kept the file: its attachment as reception describes it (label, type, scan…)."""

    attachment: Mapping[str, Any]


@dataclass(frozen=True)
class Refused:
    """Reception refused the file for good, with its code (unsupported_type, file_too_large…)."""

    status: int
    code: str


# Answers about a file that retrying will not change.
FINAL_REFUSALS = frozenset({400, 404, 413, 415, 422})


@dataclass(frozen=True)
class ReceptionClient:
    """Read upload links and hand files over, with the service token, on one HTTP session."""

    base_url: str
    api_token: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 10.0

    @property
    def _reception(self) -> JsonService:
        """Reception as an authenticated service."""
        return JsonService(self.base_url, self.api_token, self.timeout_seconds, self.session)

    async def link(self, token: str) -> UploadLink:
        """Look a link up (this never uses it up); raise LinkUnknown, LinkGone or Unavailable."""
        answer = await self._call("GET", _link_path(token))
        _raise_for_link(answer)
        if answer.status != 200:
            raise ReceptionUnavailable(f"reception answered HTTP {answer.status}")
        body = _json(answer)
        try:
            return UploadLink(
                reference=str(body["reference"]),
                language=str(body["language"]),
                expires_at=str(body["expires_at"]),
                attachments=tuple(body.get("attachments") or ()),
            )
        except (KeyError, TypeError) as error:
            raise ReceptionUnavailable("reception described the link without its fields") from error

    async def attach(
        self, token: str, contents: AsyncIterable[bytes], size: int, label: str | None
    ) -> Received | Refused:
        """Stream one finished file (`size` bytes, as `contents` yields them) to the link's
        request; tell what reception made of it.
        """
        params = {"label": label} if label else {}
        timeout = self.timeout_seconds + SECONDS_PER_MIB * size / (1024 * 1024)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        answer = await self._call(
            "POST",
            f"{_link_path(token)}/attachments",
            data=contents,
            params=params,
            headers=headers,
            timeout_seconds=timeout,
        )
        if answer.status == 201:
            return Received(_json(answer).get("attachment") or {})
        code = _error_code(answer)
        if code != "no_open_request":  # the request was closed: a refusal of this file
            _raise_for_link(answer)
        if answer.status in FINAL_REFUSALS:
            return Refused(answer.status, code or f"http_{answer.status}")
        raise ReceptionUnavailable(f"reception answered HTTP {answer.status}")

    async def _call(self, method: str, path: str, **request: Any) -> Answer:
        """Send one request; raise ReceptionUnavailable when reception does not answer."""
        try:
            return await self._reception.call(method, path, **request)
        except Unreachable as error:
            raise ReceptionUnavailable(f"reception unreachable: {error}") from error


def _link_path(token: str) -> str:
    """The API path of one link."""
    return f"/api/v1/upload-links/{quote(token, safe='')}"


def _raise_for_link(answer: Answer) -> None:
    """Raise LinkUnknown for a 404 and LinkGone for a 410."""
    if answer.status == 404:
        raise LinkUnknown()
    if answer.status == 410:
        raise LinkGone(_error_code(answer) or "link_expired")


def _json(answer: Answer) -> Any:
    """The answer's JSON object; ReceptionUnavailable when it is something else."""
    try:
        body = answer.json()
    except ValueError as error:
        raise ReceptionUnavailable("reception answered with a body that is not JSON") from error
    if not isinstance(body, dict):
        raise ReceptionUnavailable("reception answered with JSON that is not an object")
    return body


def _error_code(answer: Answer) -> str:
    """The code of reception's JSON error (`{"error": {"code": …}}`), or ""."""
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""

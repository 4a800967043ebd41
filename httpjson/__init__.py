"""One authenticated JSON call over HTTP: the shape every client of our own services shares.

The action server calls reception and the bot, reception calls the bot and Rasa, publishing calls
Rasa. Each client keeps its own error model (what is worth retrying, how a failure is worded);
what they share lives here: the token, the timeout, the session, and what counts as no answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import aiohttp


class TokenIn(Enum):
    """Where a service expects its token."""

    BEARER = "bearer"  # an Authorization header: our bot and reception
    QUERY = "query"  # a ?token= parameter: Rasa's HTTP API


class Unreachable(Exception):
    """The service did not answer: refused connection, broken connection, or timeout."""

    def __init__(self, error: BaseException) -> None:
        """Name the failure by its kind only: its text may hold an address or a token."""
        super().__init__(type(error).__name__)


@dataclass(frozen=True)
class Answer:
    """A service's answer: its status and its body, read in full."""

    status: int
    raw: bytes

    @property
    def ok(self) -> bool:
        """Tell whether the service said yes (a 2xx)."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body's JSON, None when the body is empty; ValueError when it is not JSON."""
        if not self.raw.strip():
            return None
        return json.loads(self.raw)

    def error_message(self) -> str:
        """The message of our services' JSON error (`{"error": {"message": …}}`), or ""."""
        try:
            return str(self.json()["error"]["message"]).strip()
        except (ValueError, KeyError, TypeError):
            return ""


@dataclass(frozen=True)
class JsonService:
    """One of our services, reached at `base_url` with a token.

    Without a `session`, each call opens and closes its own: the action server's clients
    live across event loops, so they cannot hold one.
    """

    base_url: str
    token: str
    timeout_seconds: float = 10.0
    session: aiohttp.ClientSession | None = None
    token_in: TokenIn = TokenIn.BEARER
    headers: Mapping[str, str] = field(default_factory=dict)

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
    ) -> Answer:
        """Send one request with the token and return the answer; raise Unreachable if none.

        The body is `body` as JSON or, for a file, `data` as it is (bytes or an open file,
        streamed by aiohttp with its Content-Length).
        """
        all_params = dict(params or {})
        all_headers = {**self.headers, **(headers or {})}
        if self.token_in is TokenIn.QUERY:
            all_params["token"] = self.token
        else:
            all_headers["Authorization"] = f"Bearer {self.token}"
        timeout = aiohttp.ClientTimeout(total=timeout_seconds or self.timeout_seconds)
        request = {"params": all_params, "headers": all_headers, "timeout": timeout}
        request.update({"data": data} if data is not None else {"json": body})
        try:
            if self.session is not None:
                return await _sent(self.session, method, f"{self.base_url}{path}", request)
            async with aiohttp.ClientSession() as session:
                return await _sent(session, method, f"{self.base_url}{path}", request)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unreachable(error) from error


async def _sent(
    session: aiohttp.ClientSession, method: str, url: str, request: dict[str, Any]
) -> Answer:
    """Send the request on a session and read the whole answer."""
    async with session.request(method, url, **request) as response:
        return Answer(response.status, await response.read())

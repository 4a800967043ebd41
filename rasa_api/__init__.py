"""Rasa's token-protected HTTP API: the one client for the few calls outside a conversation.

Reception's content preview asks how the live model understands a question and which model runs;
publishing asks which model runs and loads another. Both go through `RasaApi`; a failure is a
`RasaApiError` whose `reason` says what went wrong, so each caller words it for its own readers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import aiohttp

from httpjson import JsonService, TokenIn, Unreachable

logger = logging.getLogger(__name__)

PARSE_PATH = "/model/parse"
STATUS_PATH = "/status"
MODEL_PATH = "/model"


class Reason(Enum):
    """Why a call to Rasa's API failed."""

    TOKEN_MISSING = "token_missing"
    REFUSED = "refused"  # Rasa answered, but not with success
    UNREACHABLE = "unreachable"  # no answer, a broken connection, or no JSON


class RasaApiError(Exception):
    """A call to Rasa's API failed; `status` is Rasa's HTTP status when it answered."""

    def __init__(self, reason: Reason, status: int | None = None) -> None:
        """Keep the reason and the status."""
        super().__init__(reason.value if status is None else f"{reason.value} (HTTP {status})")
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class RasaApi:
    """Calls to a running Rasa's HTTP API, with its token."""

    base_url: str
    api_token: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 10.0

    async def reachable(self) -> bool:
        """Tell whether a Rasa server answers at all (its root needs no token)."""
        timeout = aiohttp.ClientTimeout(total=min(self.timeout_seconds, 10.0))
        try:
            async with self.session.get(f"{self.base_url}/", timeout=timeout):
                return True
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def parse(self, text: str) -> dict[str, Any]:
        """Return the live model's parse of a text (intent, ranking, entities)."""
        return _json_object(await self._call("POST", PARSE_PATH, {"text": text}))

    async def running_model(self) -> str | None:
        """Return the file name of the model Rasa runs, or None when it runs none."""
        try:
            status = await self._call("GET", STATUS_PATH)
        except RasaApiError as error:
            if error.status == 409:  # Rasa's answer when no model is loaded
                return None
            raise
        return str(_json_object(status).get("model_file") or "") or None

    async def load(self, model: Path) -> None:
        """Ask Rasa to swap to another model file (it keeps the conversations)."""
        await self._call("PUT", MODEL_PATH, {"model_file": str(model)})

    async def _call(self, method: str, path: str, body: dict[str, str] | None = None) -> Any:
        """Send one request with the token; return its JSON (None when empty)."""
        if not self.api_token:
            raise RasaApiError(Reason.TOKEN_MISSING)
        rasa = JsonService(
            self.base_url, self.api_token, self.timeout_seconds, self.session, TokenIn.QUERY
        )
        try:
            answer = await rasa.call(method, path, body=body)
        except Unreachable as exc:
            logger.warning("Rasa unreachable: %s", exc)
            raise RasaApiError(Reason.UNREACHABLE) from exc
        if answer.status not in (200, 204):
            logger.warning("Rasa answered %s %s with HTTP %d", method, path, answer.status)
            raise RasaApiError(Reason.REFUSED, answer.status)
        try:
            return answer.json()
        except ValueError as exc:
            raise RasaApiError(Reason.UNREACHABLE) from exc


def _json_object(body: Any) -> dict[str, Any]:
    """The JSON object Rasa answered; anything else is a broken answer."""
    if not isinstance(body, dict):
        raise RasaApiError(Reason.UNREACHABLE)
    return body

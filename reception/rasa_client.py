"""The Rasa client: the only code in reception/ that speaks HTTP to Rasa (the content preview)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from .wording import CodedError

logger = logging.getLogger(__name__)

PARSE_PATH = "/model/parse"
STATUS_PATH = "/status"


class RasaUnavailable(CodedError):
    """Rasa could not be asked: it is down, its API is off, or it refused the token."""


@dataclass(frozen=True, slots=True)
class Guess:
    """An intent the model considers, with its confidence (0 to 1)."""

    intent: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the live model makes of a question: its pick and the runner-up."""

    pick: Guess
    runner_up: Guess | None


@dataclass(frozen=True)
class RasaClient:
    """Ask the running Rasa how it understands a question, through its token-protected API."""

    base_url: str
    api_token: str
    session: aiohttp.ClientSession
    timeout_seconds: float = 10.0

    async def understand(self, text: str) -> Understanding:
        """Return the model's pick for a question and the runner-up, or raise RasaUnavailable."""
        return _understanding(await self._call("POST", PARSE_PATH, {"text": text}))

    async def running_model(self) -> str:
        """Return the file name of the model Rasa runs, or raise RasaUnavailable."""
        return str((await self._call("GET", STATUS_PATH)).get("model_file") or "")

    async def _call(self, method: str, path: str, body: dict[str, str] | None = None) -> Any:
        """Send one request with the token and return its JSON, or raise RasaUnavailable."""
        if not self.api_token:
            raise RasaUnavailable("rasa_token_missing")
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with self.session.request(
                method,
                f"{self.base_url}{path}",
                params={"token": self.api_token},
                json=body,
                timeout=timeout,
            ) as response:
                if response.status != 200:
                    logger.warning(
                        "Rasa answered %s %s with HTTP %d", method, path, response.status
                    )
                    raise RasaUnavailable("rasa_refused", status=response.status)
                return await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning("Rasa unreachable: %s", exc.__class__.__name__)
            raise RasaUnavailable("rasa_unreachable") from exc


def _understanding(body: dict[str, Any]) -> Understanding:
    """Read the pick and the runner-up from Rasa's parse result."""
    intent = body.get("intent") or {}
    pick = Guess(str(intent.get("name") or ""), float(intent.get("confidence") or 0.0))
    others = [
        Guess(str(item.get("name") or ""), float(item.get("confidence") or 0.0))
        for item in body.get("intent_ranking") or []
        if item.get("name") != pick.intent
    ]
    return Understanding(pick, others[0] if others else None)

"""The Rasa client: the only code in reception/ that asks Rasa (the content preview)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_api import RasaApi, RasaApiError, Reason

from .wording import CodedError

WORDING_OF = {
    Reason.TOKEN_MISSING: "rasa_token_missing",
    Reason.REFUSED: "rasa_refused",
    Reason.UNREACHABLE: "rasa_unreachable",
}


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

    api: RasaApi

    async def understand(self, text: str) -> Understanding:
        """Return the model's pick for a question and the runner-up, or raise RasaUnavailable."""
        try:
            return _understanding(await self.api.parse(text))
        except RasaApiError as exc:
            raise _unavailable(exc) from exc

    async def running_model(self) -> str:
        """Return the file name of the model Rasa runs, or raise RasaUnavailable.

        Rasa answers 409 when it runs no model; the preview reports that answer as it is.
        """
        try:
            model = await self.api.running_model()
        except RasaApiError as exc:
            raise _unavailable(exc) from exc
        if model is None:
            raise RasaUnavailable("rasa_refused", status=409)
        return model


def _unavailable(error: RasaApiError) -> RasaUnavailable:
    """The staff-facing error for a failed call: its code, and Rasa's status when it answered."""
    return RasaUnavailable(WORDING_OF[error.reason], status=error.status)


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

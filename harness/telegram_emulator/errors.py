"""The errors the emulator answers the bot with, and those it raises in the test."""

from __future__ import annotations

from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]


class TelegramApiError(Exception):
    """A Bot API error answer (``ok: false``) with its HTTP status and optional parameters."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        """Answer with this HTTP status and description, and the parameters (retry_after…)."""
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """Return the JSON body the real API would send for this error."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    def response(self) -> web.Response:
        """Return the aiohttp response for this error."""
        return web.json_response(self.payload(), status=self.error_code)


class NotEmulatedError(TelegramApiError):
    """The answer to a call the emulator cannot serve as Telegram would: a method or a feature
    it does not implement, or its own failure. The test fails on it (UnservedCallError).
    """


class UnservedCallError(AssertionError):
    """Raised in the test when the bot made calls the emulator could not serve."""


class ButtonNotFoundError(AssertionError):
    """Raised when a test taps a button that the bot never showed in that chat."""

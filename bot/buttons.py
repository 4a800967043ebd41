"""Telegram callback data: button payloads squeezed into Telegram's 64-byte limit."""

from __future__ import annotations

import hashlib

CALLBACK_DATA_LIMIT = 64
_KEY_PREFIX = "k:"


class CallbackPayloads:
    """Map Rasa button payloads to callback data of at most 64 bytes, and back."""

    def __init__(self) -> None:
        """Start with no long payloads remembered."""
        self._long: dict[str, str] = {}

    def encode(self, payload: str) -> str:
        """Return callback data for a payload: itself if it fits, else a short key."""
        if len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(_KEY_PREFIX):
            return payload
        key = _KEY_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:32]
        self._long[key] = payload
        return key

    def decode(self, data: str | None) -> str | None:
        """Return the payload behind callback data, or None if the bot never sent it."""
        if not data:
            return None
        if data.startswith(_KEY_PREFIX):
            return self._long.get(data)
        return data if data.startswith("/") else None

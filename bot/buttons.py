"""Telegram callback data: button payloads squeezed into Telegram's 64-byte limit, and signed.

A payload that fits is sent with a short signature (an HMAC keyed by the bot's token), so a
client cannot make up callback data the bot never sent. A longer one is sent as a key and
kept in the outbox, so that its button still works after a restart, until the outbox is
purged.

Rasa's payloads start with "/" and are sent to Rasa as the patient's turn. The bot's own start
with a kind of their own and are answered by the bot: `label:` for the label of a file the
patient sent (bot.records.LabelChoice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from outbox import Outbox

CALLBACK_DATA_LIMIT = 64
CALLBACKS_QUEUE = "telegram_callbacks"
SIGNATURE_LENGTH = 8
_KEY_PREFIX = "k:"
_SEPARATOR = "|"


class CallbackPayloads:
    """Map Rasa button payloads to callback data of at most 64 bytes, and back."""

    def __init__(self, outbox: Outbox, secret: str) -> None:
        """Keep long payloads in this outbox; sign short ones with a key derived from secret."""
        self.outbox = outbox
        self._key = hashlib.sha256(f"callback-data:{secret}".encode()).digest()

    def _signature(self, payload: str) -> str:
        """A short signature of a payload."""
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_LENGTH]

    async def encode(self, payload: str, lane: str) -> str:
        """Return callback data for a payload: itself and its signature, or a short key."""
        signed = f"{payload}{_SEPARATOR}{self._signature(payload)}"
        if len(signed.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(_KEY_PREFIX):
            return signed
        key = _KEY_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:32]
        await self.outbox.remember(CALLBACKS_QUEUE, lane, key, {"payload": payload})
        return key

    async def decode(self, data: str | None) -> str | None:
        """Return the payload behind callback data, or None if the bot never sent it."""
        if not data:
            return None
        if data.startswith(_KEY_PREFIX):
            kept = await self.outbox.recall(CALLBACKS_QUEUE, data)
            return str(kept["payload"]) if kept and "payload" in kept else None
        payload, separator, signature = data.rpartition(_SEPARATOR)
        if not separator or not hmac.compare_digest(signature, self._signature(payload)):
            return None
        return payload

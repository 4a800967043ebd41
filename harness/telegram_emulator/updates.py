"""The updates waiting for the bot, and the two ways they reach it: ``getUpdates`` long polls
(with the real API's offset, limit, timeout and allowed_updates rules), or POSTs to the webhook
the bot set, one at a time, until each is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from harness.telegram_emulator.errors import JSONDict, TelegramApiError

MAX_LONG_POLL = 50.0
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update_type(update: JSONDict) -> str | None:
    """Return the kind of an update (``message``, ``callback_query``, ...)."""
    return next((key for key in update if key != "update_id"), None)


def update_chat(update: JSONDict) -> JSONDict | None:
    """Return the chat an update belongs to, if any."""
    payload = update.get(update_type(update) or "")
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("chat"), dict):
        return payload["chat"]
    message = payload.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return message["chat"]
    return None


@dataclass
class Updates:
    """The queue of updates not yet confirmed by the bot, and where the bot wants them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[JSONDict] = field(default_factory=list)
    next_update_id: int = 1
    allowed: set[str] | None = None
    webhook_url: str = ""
    webhook_secret: str = ""
    deliveries: list[JSONDict] = field(default_factory=list)
    poll_generation: int = 0
    closing: bool = False
    loop: asyncio.AbstractEventLoop | None = None
    event: asyncio.Event | None = None

    def put(self, update: JSONDict) -> int:
        """Queue an update (update_id is filled in when missing) and return its update_id."""
        with self.lock:
            if "update_id" not in update:
                update["update_id"] = self.next_update_id
            self.next_update_id = max(self.next_update_id, update["update_id"] + 1)
            self.pending.append(update)
            self.pending.sort(key=lambda u: u["update_id"])
        self.wake()
        return update["update_id"]

    def wake(self) -> None:
        """Let waiting polls and the webhook pusher look at the queue (from any thread)."""
        if self.loop is not None and self.event is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.event.set)

    def close(self) -> None:
        """End the long polls that are waiting, and refuse to wait from now on."""
        with self.lock:
            self.closing = True
        self.wake()

    def set_allowed(self, allowed: Any) -> None:
        """Remember the kinds of update the bot subscribed to (an empty list means the default)."""
        if isinstance(allowed, list):
            self.allowed = set(allowed) or None

    def set_webhook(self, params: JSONDict) -> None:
        """Set (or with an empty url remove) the webhook, which blocks getUpdates."""
        with self.lock:
            self.webhook_url = str(params.get("url") or "")
            self.webhook_secret = str(params.get("secret_token") or "")
            if params.get("drop_pending_updates"):
                self.pending.clear()
            self.set_allowed(params.get("allowed_updates"))
        self.wake()

    def delete_webhook(self, params: JSONDict) -> None:
        """Remove the webhook, optionally dropping pending updates."""
        with self.lock:
            self.webhook_url = self.webhook_secret = ""
            if params.get("drop_pending_updates"):
                self.pending.clear()

    def _take(self, limit: int) -> list[JSONDict]:
        """Drop updates of kinds the bot did not subscribe to and return up to ``limit``."""
        allowed = self.allowed

        def wanted(update: JSONDict) -> bool:
            kind = update_type(update)
            return kind not in DEFAULT_EXCLUDED if allowed is None else kind in allowed

        self.pending = [u for u in self.pending if wanted(u)]
        return copy.deepcopy(self.pending[:limit])

    def _start_poll(self, params: JSONDict) -> tuple[int, int, float]:
        """Confirm updates below the offset; return the poll's generation, limit and timeout."""
        with self.lock:
            if self.webhook_url:
                raise TelegramApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self.poll_generation += 1
            offset = int(params.get("offset") or 0)
            self.set_allowed(params.get("allowed_updates"))
            if offset > 0:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            elif offset < 0:
                self.pending = self.pending[offset:]
            return (
                self.poll_generation,
                min(max(int(params.get("limit") or 100), 1), 100),
                min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL),
            )

    async def long_poll(self, params: JSONDict) -> list[JSONDict]:
        """Answer one getUpdates: wait up to its timeout for updates, then return them."""
        event = self.event
        assert event is not None
        loop = asyncio.get_running_loop()
        generation, limit, timeout = self._start_poll(params)
        event.set()  # an older poll still waiting is terminated below, as on the real server
        deadline = loop.time() + timeout
        while True:
            event.clear()
            with self.lock:
                if generation != self.poll_generation:
                    raise TelegramApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = self._take(limit)
                closing = self.closing
            remaining = deadline - loop.time()
            if batch or closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def push_to_webhook(self) -> None:
        """Deliver pending updates to the webhook in order; drop each only once it gets a 2xx.

        Every attempt is recorded in ``deliveries``; the secret token, when set, goes in the
        ``X-Telegram-Bot-Api-Secret-Token`` header, as on the real server.
        """
        event = self.event
        assert event is not None
        async with aiohttp.ClientSession() as session:
            while True:
                with self.lock:
                    url, secret = self.webhook_url, self.webhook_secret
                    batch = self._take(1) if url else []
                if not batch:
                    event.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 0.2)
                    continue
                update_id = batch[0]["update_id"]
                headers = {SECRET_HEADER: secret} if secret else {}
                try:
                    async with session.post(
                        url, json=batch[0], headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                with self.lock:
                    self.deliveries.append({"update_id": update_id, "status": status})
                    if 200 <= status < 300:
                        self.pending = [u for u in self.pending if u["update_id"] != update_id]
                if not 200 <= status < 300:
                    await asyncio.sleep(0.3)

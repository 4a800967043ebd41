"""Failures a test injects: a Telegram outage, the next calls of a method failing (a 429 with
retry_after, or any other error), and patients who blocked the bot.

PTB 22 warns (PTBDeprecationWarning) when it builds ``RetryAfter`` unless the environment
variable ``PTB_TIMEDELTA=true`` is set, which matters with ``filterwarnings=error``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from harness.telegram_emulator.errors import JSONDict, TelegramApiError
from harness.telegram_emulator.store import chat_key


@dataclass
class Faults:
    """The failures in force; ``check`` raises the one that applies to a call."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    down: bool = False
    next_failures: dict[str, JSONDict] = field(default_factory=dict)
    blocked: set[Any] = field(default_factory=set)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (429 carries ``retry_after``)."""
        parameters = None
        if error_code == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after} if retry_after else None
        elif description is None:
            description = f"{HTTPStatus(error_code).phrase}: injected failure"
        with self.lock:
            self.next_failures[method.lower()] = {
                "remaining": times,
                "error": (error_code, description, parameters),
            }

    def set_down(self, down: bool = True) -> None:
        """Simulate an outage: while down every method (and any token) answers 502."""
        with self.lock:
            self.down = down

    def set_blocked(self, chat_id: Any, blocked: bool = True) -> None:
        """Simulate a patient who blocked the bot: sends to the chat answer 403."""
        with self.lock:
            if blocked:
                self.blocked.add(chat_key(chat_id))
            else:
                self.blocked.discard(chat_key(chat_id))

    def clear(self) -> None:
        """Cancel injected failures, outages and blocks."""
        with self.lock:
            self.next_failures.clear()
            self.blocked.clear()
            self.down = False

    def check(self, method: str) -> None:
        """Raise the outage or the injected failure that applies to a call of ``method``."""
        with self.lock:
            if self.down:
                raise TelegramApiError(502, "Bad Gateway")
            failure = self.next_failures.get(method.lower())
            if failure is None:
                return
            failure["remaining"] -= 1
            if failure["remaining"] <= 0:
                del self.next_failures[method.lower()]
            raise TelegramApiError(*failure["error"])

    def check_chat(self, chat_id: Any) -> None:
        """Refuse a send to a chat whose patient blocked the bot."""
        with self.lock:
            if chat_id in self.blocked:
                raise TelegramApiError(403, "Forbidden: bot was blocked by the user")

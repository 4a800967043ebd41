"""The emulator as a test uses it: start it, act as the patient, read what the bot sent, wait
for it, and inject failures.
"""

from __future__ import annotations

import copy
from typing import Any

from harness.telegram_emulator.errors import JSONDict
from harness.telegram_emulator.faults import Faults
from harness.telegram_emulator.files import Files
from harness.telegram_emulator.patient import (
    button_tap,
    document_message,
    photo_message,
    text_message,
)
from harness.telegram_emulator.previews import Crawler
from harness.telegram_emulator.server import Server
from harness.telegram_emulator.store import Store, buttons
from harness.telegram_emulator.updates import Updates, update_chat, update_type
from harness.telegram_emulator.waiting import Predicate, block_on, until, wait_on


class TelegramEmulator:
    """Fake Telegram Bot API server for one bot token, running in a background thread.

    ``stop`` (and every wait) raises UnservedCallError if the bot called a method the emulator
    does not implement, so a test cannot pass on a call that real Telegram would have served.
    """

    def __init__(self, token: str = "123456:TEST"):
        """Serve the Bot API for `token`; call `start` (or use `with`) to listen."""
        self.token = token
        prefix = token.split(":", 1)[0]
        self.store = Store(
            {
                "id": int(prefix) if prefix.isdigit() else 1,
                "is_bot": True,
                "first_name": "Test Bot",
                "username": "test_bot",
            }
        )
        self.updates = Updates()
        self.faults = Faults()
        self.files = Files()
        self.crawler = Crawler()
        self.server = Server(token, self.store, self.updates, self.faults, self.files, self.crawler)

    def start(self) -> TelegramEmulator:
        """Start the server thread and block until it accepts connections."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop the server, then fail if the bot made calls the emulator could not serve."""
        self.server.stop()
        self.assert_served()

    def __enter__(self) -> TelegramEmulator:
        """Start the emulator."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the emulator."""
        self.stop()

    @property
    def base_url(self) -> str:
        """PTB ``base_url``: requests go to ``{base_url}{token}/{method}``."""
        return f"{self.server.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``: files are downloaded from ``{base_file_url}{token}/{path}``."""
        return f"{self.server.url}/file/bot"

    def assert_served(self, after: int = 0) -> None:
        """Raise UnservedCallError if, after a marker, the bot made a call not served."""
        self.store.assert_served(after)

    def send_update(self, update: JSONDict) -> int:
        """Queue a raw update (update_id is filled in when missing) and return its update_id."""
        update = copy.deepcopy(update)
        chat = update_chat(update)
        if chat is not None and "id" in chat:
            payload = update[update_type(update) or ""]
            own_message = payload.get("chat") is chat
            self.store.note_patient(chat, payload.get("message_id") if own_message else None)
        return self.updates.put(update)

    def send_text(self, chat_id: int, text: str, **sender: Any) -> int:
        """Queue a patient's text message and return its update_id.

        ``sender`` may set user_id, first_name, language_code ("en") and chat_type ("private").
        """
        return self.send_update(text_message(self.store, chat_id, text, **sender))

    def send_document(
        self, chat_id: int, data: bytes, file_name: str, mime_type: str, **sender: Any
    ) -> int:
        """Queue a patient's file sent "as a file" (a Document) and return its update_id.

        The bot can fetch its bytes with getFile and the file URL, unless it is over 20 MB.
        ``sender`` is as for :meth:`send_text`.
        """
        message = document_message(
            self.store, self.files, chat_id, data, file_name, mime_type, **sender
        )
        return self.send_update(message)

    def send_photo(self, chat_id: int, data: bytes, **sender: Any) -> int:
        """Queue a patient's photo (its sizes, ``data`` the largest) and return its update_id.

        ``sender`` is as for :meth:`send_text`, and may also set width and height.
        """
        return self.send_update(photo_message(self.store, self.files, chat_id, data, **sender))

    def tap_button(
        self,
        chat_id: int,
        callback_data: str,
        *,
        message_id: int | None = None,
        allow_unknown: bool = False,
    ) -> int:
        """Queue a CallbackQuery for an inline button the bot showed; return its update_id.

        The query's message is the newest bot message (or the one with ``message_id``) whose
        keyboard holds ``callback_data``; ButtonNotFoundError is raised if there is none,
        unless ``allow_unknown`` is set.
        """
        tap = button_tap(self.store, chat_id, callback_data, message_id, allow_unknown)
        return self.send_update(tap)

    def calls(self, method: str | None = None) -> list[JSONDict]:
        """Return recorded calls (all but getUpdates), optionally only those of one method."""
        return self.store.recorded(method)

    def sent(self, chat_id: int, *, after: int | None = None) -> list[JSONDict]:
        """Return the bot messages recorded for a chat, after a marker."""
        return self.store.in_chat(chat_id, after or 0)

    def texts(self, chat_id: int, *, after: int | None = None) -> list[str]:
        """Return the texts of the bot's messages in a chat, after a marker."""
        return [call["text"] for call in self.sent(chat_id, after=after)]

    def mark(self, chat_id: int | None = None) -> int:
        """Return the current sequence number, to pass as ``after=`` later (chat_id is optional)."""
        with self.store.cond:
            return self.store.seq

    buttons = staticmethod(buttons)

    @property
    def answered_callbacks(self) -> list[JSONDict]:
        """Return successful answerCallbackQuery calls (callback_query_id, text, show_alert...)."""
        keys = ("seq", "chat_id", "callback_query_id", "data", "text", "show_alert")
        return [
            {key: call.get(key) for key in keys} | {"url": call["params"].get("url")}
            for call in self.calls("answerCallbackQuery")
            if call["error"] is None
        ]

    @property
    def downloads(self) -> list[JSONDict]:
        """Return every file download the bot attempted (file_path, and whether it was found)."""
        with self.files.lock:
            return [dict(download) for download in self.files.downloads]

    @property
    def link_visits(self) -> list[JSONDict]:
        """Return the links of bot messages sent with previews on, as the preview crawler saw
        them: seq of the message, url, fetched (only links to this machine are) and the HTTP
        status (None while under way, 0 when nothing answered).
        """
        return self.crawler.seen()

    @property
    def webhook_deliveries(self) -> list[JSONDict]:
        """Return every attempt to post an update to the webhook (update_id and HTTP status)."""
        with self.updates.lock:
            return list(self.updates.deliveries)

    def wait_for(
        self,
        predicate: Predicate,
        chat_id: int,
        *,
        count: int | None = None,
        after: int | None = None,
        timeout: float = 30.0,
    ) -> list[JSONDict]:
        """Block until the chat's bot messages (after a marker) satisfy a condition; return them.

        ``predicate`` gets the list of messages; a string means "some text contains it"; None
        means "at least ``count`` messages" (or at least one). Raises AssertionError listing
        what was received on timeout. Do not call this from the event loop that runs an
        in-process bot: use :meth:`async_wait_for` there.
        """
        return block_on(
            self.store, until(self.store, chat_id, predicate, count, after or 0, timeout)
        )

    async def async_wait_for(
        self,
        predicate: Predicate,
        chat_id: int,
        *,
        count: int | None = None,
        after: int | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109 - same signature as the sync variant
    ) -> list[JSONDict]:
        """Await the condition of :meth:`wait_for` without blocking the event loop."""
        return await wait_on(until(self.store, chat_id, predicate, count, after or 0, timeout))

    def fail_next(self, method: str, times: int = 1, **error: Any) -> None:
        """Make the next ``times`` calls of ``method`` fail: a 429 with ``retry_after`` unless
        ``error`` sets error_code, retry_after or description (see Faults.fail_next).
        """
        self.faults.fail_next(method, times, **error)

    def set_down(self, down: bool = True) -> None:
        """Simulate an outage: while down every method (and any token) answers 502."""
        self.faults.set_down(down)

    def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """Simulate a patient who blocked the bot: sends to the chat answer 403."""
        self.faults.set_blocked(chat_id, blocked)

    def clear_failures(self) -> None:
        """Cancel injected failures, outages and blocks."""
        self.faults.clear()

"""The Bot API methods the bot calls, answered as Telegram would; any other method is refused
with a 404 (as Telegram does) and noted, so that the test fails on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from harness.telegram_emulator.errors import JSONDict, NotEmulatedError, TelegramApiError
from harness.telegram_emulator.faults import Faults
from harness.telegram_emulator.files import Files
from harness.telegram_emulator.formatting import hrefs, message_markup, plain_text
from harness.telegram_emulator.previews import Crawler, links_in, previews_disabled
from harness.telegram_emulator.store import Store
from harness.telegram_emulator.updates import Updates

_LOGGER = logging.getLogger(__name__)


class Methods:
    """Record each call in the store, raise the fault that applies, and answer it."""

    def __init__(
        self, store: Store, updates: Updates, faults: Faults, files: Files, crawler: Crawler
    ):
        """Answer calls with what the store, the update queue, the faults and the files hold;
        the crawler visits the links of messages sent with previews on.
        """
        self.store = store
        self.updates = updates
        self.faults = faults
        self.files = files
        self.crawler = crawler
        self.handlers: dict[str, Callable[[JSONDict], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self.get_me,
                "setWebhook": self.set_webhook,
                "deleteWebhook": self.delete_webhook,
                "sendMessage": self.send_message,
                "sendChatAction": self.send_chat_action,
                "answerCallbackQuery": self.answer_callback_query,
                "getFile": self.get_file,
            }.items()
        }

    def run(self, method: str, params: JSONDict) -> Any:
        """Record and answer one call (any method but getUpdates)."""
        with self.store.cond:
            call = self.store.new_call(method, params)
            try:
                handler = self.handlers.get(method.lower())
                if handler is None:
                    raise NotEmulatedError(404, f"Not Found: the emulator has no method {method}")
                self.faults.check(method)
                return handler(call)
            except TelegramApiError as exc:
                call["error"] = {"error_code": exc.error_code, "description": exc.description}
                if isinstance(exc, NotEmulatedError):
                    self.store.note_unserved(method, exc, call["seq"])
                raise
            except Exception as exc:
                _LOGGER.exception("TelegramEmulator failed to handle %s", method)
                error = NotEmulatedError(500, f"Internal Server Error: {exc!r}")
                call["error"] = {"error_code": 500, "description": error.description}
                self.store.note_unserved(method, error, call["seq"])
                raise error from exc
            finally:
                self.store.calls.append(call)
                self.store.cond.notify_all()

    def target_chat(self, call: JSONDict) -> JSONDict:
        """Return the chat a call is addressed to, or raise like the real API."""
        chat_id = call["chat_id"]
        if chat_id is None:
            raise TelegramApiError(400, "Bad Request: chat_id is empty")
        self.faults.check_chat(chat_id)
        if chat_id not in self.store.chats and not isinstance(chat_id, int):
            raise TelegramApiError(400, "Bad Request: chat not found")
        return self.store.chat(chat_id)

    def get_me(self, call: JSONDict) -> JSONDict:
        """Describe the bot."""
        return {
            **self.store.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_webhook(self, call: JSONDict) -> bool:
        """Set (or with an empty url remove) the webhook that updates are posted to."""
        self.updates.set_webhook(call["params"])
        return True

    def delete_webhook(self, call: JSONDict) -> bool:
        """Remove the webhook, optionally dropping pending updates."""
        self.updates.delete_webhook(call["params"])
        return True

    def send_message(self, call: JSONDict) -> JSONDict:
        """Send a text message (only an inline keyboard shows in the Message); with previews
        on, the crawler fetches its links, as Telegram's servers do.
        """
        chat = self.target_chat(call)
        fields = {
            "text": plain_text(call["text"], call["parse_mode"]),
            "entities": call["params"].get("entities"),
            "reply_markup": message_markup(call["reply_markup"]),
        }
        message = self.store.store_bot_message(call, chat, fields)
        call["link_preview_disabled"] = previews_disabled(call["params"])
        call["links"] = links_in(fields["text"], hrefs(call["text"], call["parse_mode"]))
        if not call["link_preview_disabled"]:
            self.crawler.visit(call["seq"], call["links"])
        return message

    def get_file(self, call: JSONDict) -> JSONDict:
        """Describe a file the patient sent, with the path to download it (20 MB at most)."""
        return self.files.get_file(call["params"].get("file_id"))

    def send_chat_action(self, call: JSONDict) -> bool:
        """Show a chat action such as ``typing``."""
        self.target_chat(call)
        return True

    def answer_callback_query(self, call: JSONDict) -> bool:
        """Answer a callback query of a tapped button."""
        query_id = str(call["params"].get("callback_query_id") or "")
        query = self.store.callback_queries.get(query_id)
        if query is None:
            raise TelegramApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        call["chat_id"] = query["chat_id"]
        call["callback_query_id"] = query_id
        call["data"] = query["data"]
        call["show_alert"] = bool(call["params"].get("show_alert", False))
        return True

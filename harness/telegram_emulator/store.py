"""What the emulator remembers: the bot's calls in order, the chats with the bot's messages in
them, and the callback queries of tapped buttons. The server thread and the test's threads
share it, always under ``cond``, which is notified whenever a call is recorded.

A *call* is any Bot API request but ``getUpdates``; every call gets a global, increasing
``seq``, and failed calls are recorded too, with ``error`` set. A *bot message* is a
successful call that produced a message in a chat (``sendMessage``).
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.telegram_emulator.errors import JSONDict, NotEmulatedError, UnservedCallError


def chat_key(chat_id: Any) -> Any:
    """Normalise a chat id from a request or a test (``"42"`` and ``42`` are the same chat)."""
    if isinstance(chat_id, bool):
        raise TypeError(f"invalid chat_id {chat_id!r}")
    if isinstance(chat_id, float) and chat_id.is_integer():
        return int(chat_id)
    if isinstance(chat_id, str):
        try:
            return int(chat_id)
        except ValueError:
            return chat_id
    return chat_id


def buttons(message: JSONDict) -> list[tuple[str, str | None]]:
    """Return (text, callback_data) pairs of a recorded call's or Message's keyboard.

    URL buttons and reply-keyboard buttons have ``None`` as callback_data.
    """
    markup = message.get("reply_markup") or {}
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [
        (button, None)
        if isinstance(button, str)
        else (button.get("text", ""), button.get("callback_data"))
        for row in rows
        for button in row
    ]


def describe(call: JSONDict) -> str:
    """Describe a recorded call in one line for assertion messages."""
    parts = [f"#{call['seq']} {call['method']}"]
    if call.get("text") is not None:
        parts.append(repr(call["text"]))
    if buttons(call):
        parts.append(f"buttons={buttons(call)}")
    if call.get("error"):
        parts.append(f"-> {call['error']['error_code']} {call['error']['description']}")
    return " ".join(parts)


@dataclass
class Store:
    """The bot's calls, each chat's bot messages, and the callback queries waiting for answers."""

    bot_user: JSONDict
    cond: threading.Condition = field(default_factory=threading.Condition)
    seq: int = 0
    calls: list[JSONDict] = field(default_factory=list)
    unserved: list[JSONDict] = field(default_factory=list)
    chats: dict[Any, JSONDict] = field(default_factory=dict)
    messages: dict[Any, dict[int, JSONDict]] = field(default_factory=dict)
    last_message_id: dict[Any, int] = field(default_factory=dict)
    callback_queries: dict[str, JSONDict] = field(default_factory=dict)
    callback_ids: Iterator[int] = field(default_factory=lambda: itertools.count(4_000_000_001))

    def new_call(self, method: str, params: JSONDict) -> JSONDict:
        """Number a call and describe it, before it is answered."""
        self.seq += 1
        chat_id = params.get("chat_id")
        return {
            "seq": self.seq,
            "method": method,
            "chat_id": chat_key(chat_id) if chat_id not in (None, "") else None,
            "message_id": None,
            "text": params.get("text"),
            "parse_mode": params.get("parse_mode"),
            "reply_markup": params.get("reply_markup"),
            "params": params,
            "message": None,
            "error": None,
        }

    def note_unserved(self, method: str, error: NotEmulatedError, seq: int | None = None) -> None:
        """Remember a call the emulator could not serve, for the test to fail on (``seq`` is
        the recorded call's; a failure outside any call gets a number of its own).
        """
        with self.cond:
            if seq is None:
                self.seq += 1
                seq = self.seq
            self.unserved.append({"seq": seq, "method": method, "description": error.description})
            self.cond.notify_all()

    def assert_served(self, after: int = 0) -> None:
        """Raise UnservedCallError if, after a marker, the bot made a call the emulator could
        not serve (a method it does not implement, a feature it does not check, a failure).
        """
        with self.cond:
            unserved = [u for u in self.unserved if u["seq"] > after]
        if unserved:
            listed = "\n  ".join(f"#{u['seq']} {u['method']}: {u['description']}" for u in unserved)
            raise UnservedCallError(
                f"the bot made calls the Telegram emulator could not serve:\n  {listed}"
            )

    def chat(self, chat_id: Any) -> JSONDict:
        """Return a chat, creating a private chat (or a group, for a negative id) on first use."""
        if chat_id not in self.chats:
            self.chats[chat_id] = (
                {"id": chat_id, "type": "private", "first_name": "Test"}
                if chat_id > 0
                else {"id": chat_id, "type": "group", "title": "Test group"}
            )
        return self.chats[chat_id]

    def note_patient(self, chat: JSONDict, message_id: Any) -> None:
        """Remember the chat of a patient's update, and the message id it used."""
        key = chat_key(chat["id"])
        with self.cond:
            self.chats.setdefault(key, copy.deepcopy(chat))
            if isinstance(message_id, int):
                self.last_message_id[key] = max(self.last_message_id.get(key, 0), message_id)

    def new_message_id(self, chat_id: Any) -> int:
        """Allocate the next message id in a chat (shared by the bot and the patient)."""
        with self.cond:
            self.last_message_id[chat_id] = self.last_message_id.get(chat_id, 0) + 1
            return self.last_message_id[chat_id]

    def store_bot_message(self, call: JSONDict, chat: JSONDict, fields: JSONDict) -> JSONDict:
        """Create, store and record a new bot message; return it."""
        message: JSONDict = {
            "message_id": self.new_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        self.messages.setdefault(chat["id"], {})[message["message_id"]] = message
        call["message_id"] = message["message_id"]
        call["message"] = copy.deepcopy(message)
        return copy.deepcopy(message)

    def bot_messages(self, chat_id: Any) -> list[JSONDict]:
        """Return the bot's messages in a chat, newest first."""
        with self.cond:
            messages = self.messages.get(chat_id, {})
            return [messages[i] for i in sorted(messages, reverse=True)]

    def recorded(self, method: str | None = None) -> list[JSONDict]:
        """Return copies of the recorded calls, optionally only those of one method."""
        with self.cond:
            return [
                copy.deepcopy(call)
                for call in self.calls
                if method is None or call["method"].lower() == method.lower()
            ]

    def in_chat(
        self, chat_id: Any, after: int = 0, *, messages_only: bool = True
    ) -> list[JSONDict]:
        """Return copies of a chat's bot messages (or of all its calls) after a marker."""
        key = chat_key(chat_id)
        with self.cond:
            return [
                copy.deepcopy(call)
                for call in self.calls
                if call["chat_id"] == key
                and call["seq"] > after
                and (call["message"] is not None or not messages_only)
            ]

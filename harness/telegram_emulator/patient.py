"""The updates a patient's actions produce: a typed text, a file or a photo, and a tap on an
inline button.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from harness.telegram_emulator.errors import ButtonNotFoundError, JSONDict
from harness.telegram_emulator.files import Files
from harness.telegram_emulator.formatting import utf16_len
from harness.telegram_emulator.store import Store, buttons, chat_key


def _user(chat_id: Any, user_id: int | None, first_name: str, language: str | None) -> JSONDict:
    """Build the patient's User object (in a private chat, the user's id is the chat's)."""
    if user_id is None:
        user_id = chat_id if isinstance(chat_id, int) and chat_id > 0 else 1000
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    return user | ({"language_code": language} if language else {})


def _message(
    store: Store,
    chat_id: int,
    fields: JSONDict,
    *,
    user_id: int | None = None,
    first_name: str = "Test",
    language_code: str | None = "en",
    chat_type: str = "private",
) -> JSONDict:
    """Return the update of a patient's new message with these fields, in their chat."""
    key = chat_key(chat_id)
    if chat_type == "private":
        chat = {"id": key, "type": "private", "first_name": first_name}
    else:
        chat = {"id": key, "type": chat_type, "title": "Test group"}
    message: JSONDict = {
        "from": _user(key, user_id, first_name, language_code),
        "chat": chat,
        "date": int(time.time()),
        **fields,
    }
    with store.cond:
        store.chats[key] = chat
        message["message_id"] = store.new_message_id(key)
    return {"message": message}


def text_message(store: Store, chat_id: int, text: str, **sender: Any) -> JSONDict:
    """Return the update of a patient's text message (``/commands`` get a bot_command entity).

    ``sender`` may set user_id, first_name, language_code ("en") and chat_type ("private").
    """
    fields: JSONDict = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
    return _message(store, chat_id, fields, **sender)


def document_message(
    store: Store,
    files: Files,
    chat_id: int,
    data: bytes,
    file_name: str,
    mime_type: str,
    **sender: Any,
) -> JSONDict:
    """Return the update of a patient sending a file "as a file": a Document with its bytes."""
    extension = file_name.rpartition(".")[2] if "." in file_name else "bin"
    document = {
        "file_name": file_name,
        "mime_type": mime_type,
        **files.add(data, "documents", extension),
    }
    return _message(store, chat_id, {"document": document}, **sender)


def photo_message(
    store: Store,
    files: Files,
    chat_id: int,
    data: bytes,
    width: int = 1280,
    height: int = 960,
    **sender: Any,
) -> JSONDict:
    """Return the update of a patient sending a photo: its sizes, smallest first.

    The largest size holds ``data`` (what Telegram kept after compressing the photo); the smaller
    ones hold placeholder bytes of their own, so a bot that takes a thumbnail is caught.
    """
    sizes = []
    for side in (90, 320):
        scale = min(side / max(width, height), 1.0)
        small_width, small_height = max(1, round(width * scale)), max(1, round(height * scale))
        thumbnail = f"thumbnail {small_width}x{small_height}".encode()
        sizes.append(
            {"width": small_width, "height": small_height, **files.add(thumbnail, "photos", "jpg")}
        )
    sizes.append({"width": width, "height": height, **files.add(data, "photos", "jpg")})
    return _message(store, chat_id, {"photo": sizes}, **sender)


def button_tap(
    store: Store, chat_id: int, callback_data: str, message_id: int | None, allow_unknown: bool
) -> JSONDict:
    """Return the update of a tap on a button the bot showed, and expect its answer.

    The query's message is the newest bot message (or the one with ``message_id``) whose
    keyboard holds ``callback_data``; ButtonNotFoundError is raised if there is none, unless
    ``allow_unknown`` is set.
    """
    key = chat_key(chat_id)
    with store.cond:
        candidates = store.bot_messages(key)
        if message_id is not None:
            candidates = [m for m in candidates if m["message_id"] == message_id]
        shown = [m for m in candidates if callback_data in dict(buttons(m)).values()]
        if not shown and not allow_unknown:
            raise _button_error(store, key, callback_data)
        message = next(iter(shown or candidates), None)
        query_id = str(next(store.callback_ids))
        query: JSONDict = {
            "id": query_id,
            "from": _user(key, None, "Test", "en"),
            "chat_instance": f"instance-{key}",
            "data": callback_data,
        }
        if message is not None:
            query["message"] = copy.deepcopy(message)
        elif message_id is not None:
            chat = store.chats.get(key, {"id": key, "type": "private", "first_name": "Test"})
            query["message"] = {"message_id": message_id, "chat": chat, "date": 0}
        store.callback_queries[query_id] = {"chat_id": key, "data": callback_data}
    return {"callback_query": query}


def _button_error(store: Store, chat_id: Any, callback_data: str) -> ButtonNotFoundError:
    """Build a helpful error listing the buttons currently on screen."""
    shown = [
        f"message {m['message_id']}: {buttons(m)}"
        for m in store.bot_messages(chat_id)
        if buttons(m)
    ]
    return ButtonNotFoundError(
        f"no inline button with callback_data {callback_data!r} in chat {chat_id}; "
        f"current keyboards: {shown or 'none'}"
    )

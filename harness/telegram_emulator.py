"""A small Telegram Bot API emulator for end-to-end tests.

The emulator is an aiohttp server on 127.0.0.1 that runs in a background thread with its own
event loop, so sync tests, async tests and bot subprocesses can all talk to it::

    with TelegramEmulator(token="123456:TEST") as emulator:
        # in-process: ApplicationBuilder().token(TOKEN).base_url(emulator.base_url)
        #                 .base_file_url(emulator.base_file_url)
        # subprocess: TELEGRAM_API_BASE_URL=emulator.base_url
        emulator.send_text(42, "/start")
        replies = emulator.wait_for_reply(42)  # or: await emulator.async_wait_for_reply(42)
        emulator.tap_button(42, emulator.buttons(replies[-1])[0][1])

Terminology used below:

* a *call* is any recorded Bot API request except ``getUpdates`` (see :meth:`calls`); failed
  calls are recorded too, with ``error`` set;
* a *bot message* is a successful call that produced or changed a message in a chat
  (``sendMessage``, ``sendPhoto``, ``sendDocument``, ``editMessageText``,
  ``editMessageCaption``, ``editMessageReplyMarkup``); see :meth:`sent`;
* every call gets a global, monotonically increasing ``seq``; :meth:`mark` returns the current
  one so that tests can look at what happened after a point in time.

Like the real API, the emulator rejects common formatting mistakes (unsupported HTML tags,
unescaped MarkdownV2 characters, texts over 4096 characters, callback data over 64 bytes);
pass ``strict=False`` to turn these checks off.

PTB 22 warns (PTBDeprecationWarning) when it builds ``RetryAfter`` unless the environment
variable ``PTB_TIMEDELTA=true`` is set, which matters with ``filterwarnings=error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Generator
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["ButtonNotFoundError", "TelegramApiError", "TelegramEmulator"]

_LOGGER = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Predicate = Callable[[list[JSONDict]], object] | str | None
_Waiter = Generator[float, None, list[JSONDict]]

_POLL_INTERVAL = 0.05
_MAX_LONG_POLL = 50.0
_UPLOAD_LIMIT = 50 * 1024 * 1024
_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_CALLBACK_DATA_LIMIT = 64
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "tg-time",
        "u",
    ]
)
_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Form values arrive as strings; these parameters stay strings, all others are JSON-decoded.
_STRING_PARAMS = frozenset(
    [
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "certificate",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "query",
        "question",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    ]
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class TelegramApiError(Exception):
    """A Bot API error answer (``ok: false``) with its HTTP status and optional parameters."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
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


class ButtonNotFoundError(AssertionError):
    """Raised when a test taps a button that the bot never showed in that chat."""


def _chat_key(chat_id: Any) -> Any:
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


def _coerce(key: str, value: Any) -> Any:
    """Decode one request parameter the way the Bot API does (JSON unless it is a string field)."""
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def _parse_error(message: str) -> TelegramApiError:
    """Return the API error for a text that could not be parsed."""
    return TelegramApiError(400, f"Bad Request: can't parse entities: {message}")


class _TelegramHtml(HTMLParser):
    """Extract the plain text of Telegram-flavoured HTML and note the first formatting error."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [i + 1 for i, char in enumerate(source) if char == "\n"]
        self.parts: list[str] = []
        self.open_tags: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        """Remember the first error with the byte offset Telegram would report."""
        if self.error is None:
            line, column = self.getpos()
            offset = self._line_starts[line - 1] + column
            self.error = f"{message} at byte offset {len(self._source[:offset].encode())}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept the tags Telegram supports."""
        if tag in _HTML_TAGS:
            self.open_tags.append(tag)
        else:
            self._fail(f'Unsupported start tag "{tag}"')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Reject self-closing tags such as ``<br/>``."""
        self._fail(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        """Require end tags to match the innermost open tag."""
        if self.open_tags and self.open_tags[-1] == tag:
            self.open_tags.pop()
        else:
            self._fail("Unexpected end tag")

    def handle_data(self, data: str) -> None:
        """Collect text."""
        self.parts.append(data)


def _parse_html(text: str) -> str:
    """Return the plain text of an HTML-formatted message, raising like the real API."""
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    if parser.error:
        raise _parse_error(parser.error)
    if parser.open_tags:
        raise _parse_error(
            f'Can\'t find end tag corresponding to start tag "{parser.open_tags[-1]}"'
        )
    return "".join(parser.parts)


def _at_line_start(text: str, index: int) -> bool:
    """Tell whether ``index`` starts a line, optionally after an expandable-quote ``**``."""
    if index >= 2 and text[index - 2 : index] == "**":
        index -= 2
    return index == 0 or text[index - 1] == "\n"


def _parse_markdown_v2(text: str) -> str:
    """Return the plain text of a MarkdownV2 message, raising on unescaped reserved characters."""
    plain: list[str] = []
    code: str | None = None
    in_url = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            if not in_url:
                plain.append(text[index + 1])
            index += 2
        elif code:
            if text.startswith(code, index):
                index += len(code)
                code = None
            else:
                plain.append(char)
                index += 1
        elif in_url:
            in_url = char != ")"
            index += 1
        elif char == "`":
            code = "```" if text.startswith("```", index) else "`"
            index += len(code)
            if code == "```":
                while index < len(text) and not text[index].isspace():
                    index += 1  # language name
        elif text.startswith("](", index):
            in_url = True
            index += 2
        elif (
            char in "*_~|["
            or (char == "!" and text.startswith("![", index))
            or (char == ">" and _at_line_start(text, index))
        ):
            index += 1  # entity markup
        elif char in _MARKDOWN_V2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            plain.append(char)
            index += 1
    return "".join(plain)


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, JSONDict]]:
    """Read query, JSON, urlencoded or multipart parameters and uploaded files of a request."""
    raw: JSONDict = dict(request.query)
    files: dict[str, JSONDict] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise TelegramApiError(400, "Bad Request: can't parse JSON request body") from exc
            if not isinstance(body, dict):
                raise TelegramApiError(400, "Bad Request: JSON request body must be an object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        data = value.file.read()
                    files[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": len(data),
                        "data": data,
                    }
                else:
                    raw[key] = value if isinstance(value, str) else bytes(value).decode()
    return {key: _coerce(key, value) for key, value in raw.items()}, files


async def _cancel_pending_tasks() -> None:
    """Cancel whatever still runs on the emulator's loop and wait for it to finish."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _update_type(update: JSONDict) -> str | None:
    """Return the kind of an update (``message``, ``callback_query``, ...)."""
    return next((key for key in update if key != "update_id"), None)


def _update_chat(update: JSONDict) -> JSONDict | None:
    """Return the chat an update belongs to, if any."""
    payload = update.get(_update_type(update) or "")
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("chat"), dict):
        return payload["chat"]
    message = payload.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return message["chat"]
    return None


def _summarize(call: JSONDict) -> str:
    """Describe a recorded call in one line for assertion messages."""
    parts = [f"#{call['seq']} {call['method']}"]
    text = call.get("text") if call.get("text") is not None else call.get("caption")
    if text is not None:
        parts.append(repr(text))
    buttons = TelegramEmulator.buttons(call)
    if buttons:
        parts.append(f"buttons={buttons}")
    if call.get("error"):
        parts.append(f"-> {call['error']['error_code']} {call['error']['description']}")
    return " ".join(parts)


class TelegramEmulator:
    """Fake Telegram Bot API server for one bot token, running in a background thread."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "test_bot",
        bot_first_name: str = "Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = True,
    ):
        self.token = token
        self.host = host
        self.port: int | None = None
        self.strict = strict
        prefix = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.internal_errors: list[str] = []
        self._requested_port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._updates_event: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._closing = False
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._get_updates_count = 0
        self._webhook_url = ""
        self._webhook_secret = ""
        self._pusher: asyncio.Task[None] | None = None
        self.webhook_deliveries: list[JSONDict] = []
        self._calls: list[JSONDict] = []
        self._seq = 0
        self._user_marks: dict[Any, int] = {}
        self._chats: dict[Any, JSONDict] = {}
        self._messages: dict[Any, dict[int, JSONDict]] = {}
        self._sources: dict[tuple[Any, int], tuple[Any, ...]] = {}
        self._last_message_id: dict[Any, int] = {}
        self._callback_queries: dict[str, JSONDict] = {}
        self._callback_ids = itertools.count(4_000_000_001)
        self._files: dict[str, JSONDict] = {}
        self._file_numbers = itertools.count(1)
        self._commands: dict[str, list[JSONDict]] = {}
        self._failures: dict[str, JSONDict] = {}
        self._down = False
        self._blocked: set[Any] = set()
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setMyName": self._true,
                "setMyDescription": self._true,
                "setMyShortDescription": self._true,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
            }.items()
        }

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> TelegramEmulator:
        """Start the server thread and block until it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("a TelegramEmulator can only be started once")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="telegram-emulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("TelegramEmulator did not start within 10 s")
        if self._startup_error is not None:
            self._thread.join(timeout=10)
            raise RuntimeError("TelegramEmulator failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """End pending long polls, stop the server and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None or not thread.is_alive():
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._stop_in_loop)
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("TelegramEmulator thread did not stop within 15 s")

    def __enter__(self) -> TelegramEmulator:
        """Start the emulator."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the emulator."""
        self.stop()

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise RuntimeError("TelegramEmulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB ``base_url``: requests go to ``{base_url}{token}/{method}``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``: downloads go to ``{base_file_url}{token}/{file_path}``."""
        return f"{self.url}/file/bot"

    def _serve(self, ready: threading.Event) -> None:
        """Run the server's event loop in the emulator thread."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._start_server())
            except Exception as exc:
                self._startup_error = exc
                return
            finally:
                ready.set()
            loop.run_forever()
        finally:
            try:
                if self._runner is not None:
                    loop.run_until_complete(self._runner.cleanup())
            finally:
                loop.run_until_complete(_cancel_pending_tasks())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

    async def _start_server(self) -> None:
        """Create the aiohttp application and bind it to a port."""
        self._updates_event = asyncio.Event()
        app = web.Application(client_max_size=_UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._requested_port).start()
        self.port = self._runner.addresses[0][1]
        self._pusher = asyncio.get_running_loop().create_task(self._push_to_webhook())

    async def _push_to_webhook(self) -> None:
        """Deliver pending updates to the webhook, one at a time, until each is accepted."""
        event = self._updates_event
        assert event is not None
        async with aiohttp.ClientSession() as session:
            while True:
                with self._lock:
                    url, secret = self._webhook_url, self._webhook_secret
                    batch = self._take_updates(1) if url else []
                if not batch:
                    event.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 0.2)
                    continue
                update = batch[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    async with session.post(
                        url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                with self._cond:
                    self.webhook_deliveries.append(
                        {"update_id": update["update_id"], "status": status}
                    )
                    if 200 <= status < 300:
                        self._updates = [
                            u for u in self._updates if u["update_id"] != update["update_id"]
                        ]
                    self._cond.notify_all()
                if not 200 <= status < 300:
                    await asyncio.sleep(0.3)

    def _stop_in_loop(self) -> None:
        """Wake long polls and stop the loop (runs in the emulator thread)."""
        if self._updates_event is not None:
            self._updates_event.set()
        asyncio.get_running_loop().stop()

    def _wake_pollers(self) -> None:
        """Let waiting ``getUpdates`` requests re-check the queue (callable from any thread)."""
        loop, event = self._loop, self._updates_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    # -- HTTP layer ------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Answer one Bot API request."""
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            down = TelegramApiError(502, "Bad Gateway")
            return (down if self._down else TelegramApiError(401, "Unauthorized")).response()
        try:
            params, files = await _read_params(request)
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._call(method, params, files)
        except TelegramApiError as exc:
            return exc.response()
        except Exception as exc:
            _LOGGER.exception("TelegramEmulator failed to handle %s", method)
            self.internal_errors.append(f"{method}: {exc!r}")
            return TelegramApiError(500, f"Internal Server Error: {exc!r}").response()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        """Serve a file stored with :meth:`add_file` or uploaded by the bot."""
        if request.match_info["token"] != self.token:
            return TelegramApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        with self._lock:
            stored = next((f for f in self._files.values() if f["file_path"] == path), None)
        if stored is None:
            return TelegramApiError(404, "Not Found").response()
        return web.Response(body=stored["data"], content_type="application/octet-stream")

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        """Answer paths that are not Bot API endpoints like the real server does."""
        return TelegramApiError(404, "Not Found").response()

    def _check_failures(self, method: str) -> None:
        """Raise the outage or injected failure that applies to ``method``, if any."""
        if self._down:
            raise TelegramApiError(502, "Bad Gateway")
        failure = self._failures.get(method.lower())
        if failure is None:
            return
        failure["remaining"] -= 1
        if failure["remaining"] <= 0:
            del self._failures[method.lower()]
        raise TelegramApiError(failure["error_code"], failure["description"], failure["parameters"])

    def _call(self, method: str, params: JSONDict, files: dict[str, JSONDict]) -> Any:
        """Record and execute one non-polling method."""
        with self._cond:
            self._seq += 1
            chat_id = params.get("chat_id")
            call: JSONDict = {
                "seq": self._seq,
                "method": method,
                "chat_id": _chat_key(chat_id) if chat_id not in (None, "") else None,
                "message_id": params.get("message_id"),
                "text": params.get("text"),
                "caption": params.get("caption"),
                "parse_mode": params.get("parse_mode"),
                "reply_markup": params.get("reply_markup"),
                "params": params,
                "files": files,
                "message": None,
                "result": None,
                "error": None,
                "time": time.time(),
            }
            try:
                self._check_failures(method)
                handler = self._handlers.get(method.lower())
                if handler is None:
                    raise TelegramApiError(400, "Bad Request: method not found")
                result = handler(call)
                call["result"] = copy.deepcopy(result)
                return result
            except TelegramApiError as exc:
                call["error"] = {"error_code": exc.error_code, "description": exc.description}
                raise
            except Exception as exc:
                _LOGGER.exception("TelegramEmulator failed to handle %s", method)
                self.internal_errors.append(f"{method}: {exc!r}")
                call["error"] = {
                    "error_code": 500,
                    "description": f"Internal Server Error: {exc!r}",
                }
                raise TelegramApiError(500, call["error"]["description"]) from exc
            finally:
                self._calls.append(call)
                self._cond.notify_all()

    # -- getUpdates ------------------------------------------------------------------------

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long-poll for updates with the real API's offset, limit and allowed_updates rules."""
        loop = asyncio.get_running_loop()
        event = self._updates_event
        assert event is not None
        with self._cond:
            self._check_failures("getUpdates")
            if self._webhook_url:
                raise TelegramApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._get_updates_count += 1
            self._cond.notify_all()
            offset = int(params.get("offset") or 0)
            limit = min(max(int(params.get("limit") or 100), 1), 100)
            timeout = min(max(float(params.get("timeout") or 0), 0.0), _MAX_LONG_POLL)
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = set(allowed) or None
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
        event.set()  # an older poll still waiting is terminated below, as on the real server
        deadline = loop.time() + timeout
        while True:
            event.clear()
            with self._lock:
                if generation != self._poll_generation:
                    raise TelegramApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = self._take_updates(limit)
                closing = self._closing
            remaining = deadline - loop.time()
            if batch or closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _take_updates(self, limit: int) -> list[JSONDict]:
        """Drop updates of types the bot did not subscribe to and return up to ``limit``."""
        allowed = self._allowed_updates

        def wanted(update: JSONDict) -> bool:
            kind = _update_type(update)
            if allowed is None:
                return kind not in _DEFAULT_EXCLUDED_UPDATES
            return kind in allowed

        self._updates = [u for u in self._updates if wanted(u)]
        return copy.deepcopy(self._updates[:limit])

    # -- method handlers (run in the emulator thread with the lock held) --------------------

    def _true(self, call: JSONDict) -> bool:
        """Accept a method that only answers ``true``."""
        return True

    def _get_me(self, call: JSONDict) -> JSONDict:
        """Describe the bot."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, call: JSONDict) -> bool:
        """Set (or with an empty url remove) the webhook, which blocks getUpdates.

        While a webhook is set, pending updates are POSTed to it one at a time, in order,
        with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret_token was given;
        an update is dropped from the queue only when the webhook answers 2xx, as on the
        real server. Every attempt is recorded in :attr:`webhook_deliveries`.
        """
        self._webhook_url = str(call["params"].get("url") or "")
        self._webhook_secret = str(call["params"].get("secret_token") or "")
        if call["params"].get("drop_pending_updates"):
            self._updates.clear()
        allowed = call["params"].get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) or None
        self._wake_pollers()
        return True

    def _delete_webhook(self, call: JSONDict) -> bool:
        """Remove the webhook, optionally dropping pending updates."""
        self._webhook_url = ""
        self._webhook_secret = ""
        if call["params"].get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, call: JSONDict) -> JSONDict:
        """Describe the webhook state."""
        info: JSONDict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        """Key commands by scope and language, like the real API."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _set_my_commands(self, call: JSONDict) -> bool:
        """Store the bot's command list."""
        commands = call["params"].get("commands")
        if not isinstance(commands, list):
            raise TelegramApiError(400, "Bad Request: can't parse BotCommand array JSON object")
        self._commands[self._commands_key(call["params"])] = commands
        return True

    def _delete_my_commands(self, call: JSONDict) -> bool:
        """Forget the bot's command list."""
        self._commands.pop(self._commands_key(call["params"]), None)
        return True

    def _get_my_commands(self, call: JSONDict) -> list[JSONDict]:
        """Return the bot's command list."""
        return self._commands.get(self._commands_key(call["params"]), [])

    def _target_chat(self, call: JSONDict) -> JSONDict:
        """Return the chat a bot call is addressed to, or raise like the real API."""
        chat_id = call["chat_id"]
        if chat_id is None:
            raise TelegramApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self._blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self._chats:
            if not isinstance(chat_id, int):
                raise TelegramApiError(400, "Bad Request: chat not found")
            self._chats[chat_id] = (
                {"id": chat_id, "type": "private", "first_name": "Test"}
                if chat_id > 0
                else {"id": chat_id, "type": "group", "title": "Test group"}
            )
        return self._chats[chat_id]

    def _formatted(self, text: Any, parse_mode: Any, *, limit: int, field: str) -> str:
        """Validate a text or caption and return its plain text."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        mode = str(parse_mode or "").lower()
        plain = text
        if self.strict and mode == "html":
            plain = _parse_html(text)
        elif self.strict and mode == "markdownv2":
            plain = _parse_markdown_v2(text)
        if self.strict and field == "text" and not plain.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        if self.strict and _utf16_len(plain) > limit:
            message = "message is too long" if field == "text" else "message caption is too long"
            raise TelegramApiError(400, f"Bad Request: {message}")
        return plain

    def _checked_markup(self, call: JSONDict) -> JSONDict | None:
        """Validate ``reply_markup`` and return it parsed."""
        markup = call["reply_markup"]
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise TelegramApiError(
                400, "Bad Request: can't parse reply keyboard markup JSON object"
            )
        if self.strict and "inline_keyboard" in markup:
            for row in markup["inline_keyboard"]:
                for button in row:
                    if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                        raise TelegramApiError(
                            400,
                            "Bad Request: can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard",
                        )
                    data = button.get("callback_data")
                    if (
                        data is not None
                        and not 1 <= len(str(data).encode()) <= _CALLBACK_DATA_LIMIT
                    ):
                        raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _inline(markup: JSONDict | None) -> JSONDict | None:
        """Return the markup a Message carries: only inline keyboards are echoed back."""
        return markup if markup and "inline_keyboard" in markup else None

    def _new_message_id(self, chat_id: Any) -> int:
        """Allocate the next message id in a chat (shared by the bot and the patient)."""
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _store_bot_message(self, call: JSONDict, chat: JSONDict, fields: JSONDict) -> JSONDict:
        """Create, store and record a new bot message."""
        message: JSONDict = {
            "message_id": self._new_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        params = call["params"]
        reply_to = params.get("reply_to_message_id")
        if isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        replied = self._messages.get(chat["id"], {}).get(reply_to) if reply_to else None
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        self._messages.setdefault(chat["id"], {})[message["message_id"]] = message
        self._sources[(chat["id"], message["message_id"])] = (
            call["text"],
            call["caption"],
            call["parse_mode"],
            self._inline(call["reply_markup"]),
        )
        call["message_id"] = message["message_id"]
        call["message"] = copy.deepcopy(message)
        return copy.deepcopy(message)

    def _send_message(self, call: JSONDict) -> JSONDict:
        """Send a text message."""
        chat = self._target_chat(call)
        text = self._formatted(call["text"], call["parse_mode"], limit=_TEXT_LIMIT, field="text")
        markup = self._checked_markup(call)
        entities = call["params"].get("entities")
        fields = {"text": text, "entities": entities, "reply_markup": self._inline(markup)}
        return self._store_bot_message(call, chat, fields)

    def _send_chat_action(self, call: JSONDict) -> bool:
        """Show a chat action such as ``typing``."""
        self._target_chat(call)
        return True

    def _store_file(self, data: bytes, file_name: str, mime_type: str | None) -> JSONDict:
        """Store file content and return its metadata (without the bytes)."""
        number = next(self._file_numbers)
        info: JSONDict = {
            "file_id": f"FILE{number:06d}",
            "file_unique_id": f"UNIQ{number:06d}",
            "file_size": len(data),
            "file_name": file_name,
            "mime_type": mime_type,
            "file_path": f"files/{number}/{file_name}",
        }
        self._files[info["file_id"]] = {**info, "data": data}
        return info

    def _resolve_upload(self, call: JSONDict, field: str) -> JSONDict:
        """Find the file a send method refers to: an upload, a known file_id or a URL."""
        value = call["params"].get(field)
        upload = None
        if value is None:
            upload = call["files"].get(field)
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = call["files"].get(value.removeprefix("attach://"))
        if upload is not None:
            return self._store_file(
                upload["data"], upload["filename"] or field, upload["content_type"]
            )
        if value is None:
            raise TelegramApiError(400, f"Bad Request: there is no {field} in the request")
        if isinstance(value, str) and value in self._files:
            return {k: v for k, v in self._files[value].items() if k != "data"}
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._store_file(b"", value.rstrip("/").rsplit("/", 1)[-1] or field, None)
        raise TelegramApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _send_media(self, call: JSONDict, field: str) -> JSONDict:
        """Send a photo or a document with an optional caption."""
        chat = self._target_chat(call)
        info = self._resolve_upload(call, field)
        caption = None
        if call["caption"] is not None:
            caption = self._formatted(
                call["caption"], call["parse_mode"], limit=_CAPTION_LIMIT, field="caption"
            )
        markup = self._checked_markup(call)
        ids = {"file_id": info["file_id"], "file_unique_id": info["file_unique_id"]}
        if field == "photo":
            media: Any = [{**ids, "width": 320, "height": 320, "file_size": info["file_size"]}]
        else:
            media = {
                **ids,
                "file_name": info["file_name"],
                "mime_type": info["mime_type"] or "application/octet-stream",
                "file_size": info["file_size"],
            }
        fields = {field: media, "caption": caption, "reply_markup": self._inline(markup)}
        return self._store_bot_message(call, chat, fields)

    def _send_photo(self, call: JSONDict) -> JSONDict:
        """Send a photo."""
        return self._send_media(call, "photo")

    def _send_document(self, call: JSONDict) -> JSONDict:
        """Send a document."""
        return self._send_media(call, "document")

    def _message_to_edit(self, call: JSONDict) -> JSONDict | None:
        """Return the stored bot message an edit refers to (None for inline messages)."""
        if call["params"].get("inline_message_id"):
            return None
        chat = self._target_chat(call)
        stored = self._messages.get(chat["id"], {}).get(call["message_id"])
        if stored is None:
            raise TelegramApiError(400, "Bad Request: message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_user["id"]:
            raise TelegramApiError(400, "Bad Request: message can't be edited")
        return stored

    def _apply_edit(self, call: JSONDict, stored: JSONDict, changes: JSONDict) -> JSONDict:
        """Apply an edit unless it changes nothing, and record the edited message."""
        key = (stored["chat"]["id"], stored["message_id"])
        old = self._sources.get(key, (None, None, None, None))
        new = (
            call["text"] if "text" in changes else old[0],
            call["caption"] if "caption" in changes else old[1],
            call["parse_mode"] if {"text", "caption"} & changes.keys() else old[2],
            self._inline(changes["reply_markup"]),
        )
        if new == old and self.strict:
            raise TelegramApiError(400, _NOT_MODIFIED)
        for name, value in changes.items():
            if value is None:
                stored.pop(name, None)
            else:
                stored[name] = value
        stored["edit_date"] = int(time.time())
        self._sources[key] = new
        call["message"] = copy.deepcopy(stored)
        return copy.deepcopy(stored)

    def _edit_message_text(self, call: JSONDict) -> JSONDict | bool:
        """Edit a message's text (omitting reply_markup removes the inline keyboard)."""
        stored = self._message_to_edit(call)
        text = self._formatted(call["text"], call["parse_mode"], limit=_TEXT_LIMIT, field="text")
        markup = self._inline(self._checked_markup(call))
        if stored is None:
            return True
        if "text" not in stored:
            raise TelegramApiError(400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(call, stored, {"text": text, "reply_markup": markup})

    def _edit_message_caption(self, call: JSONDict) -> JSONDict | bool:
        """Edit a media message's caption."""
        stored = self._message_to_edit(call)
        caption = None
        if call["caption"] is not None:
            caption = self._formatted(
                call["caption"], call["parse_mode"], limit=_CAPTION_LIMIT, field="caption"
            )
        markup = self._inline(self._checked_markup(call))
        if stored is None:
            return True
        if "text" in stored:
            raise TelegramApiError(400, "Bad Request: there is no caption in the message to edit")
        return self._apply_edit(call, stored, {"caption": caption, "reply_markup": markup})

    def _edit_message_reply_markup(self, call: JSONDict) -> JSONDict | bool:
        """Replace or remove a message's inline keyboard."""
        stored = self._message_to_edit(call)
        markup = self._inline(self._checked_markup(call))
        if stored is None:
            return True
        return self._apply_edit(call, stored, {"reply_markup": markup})

    def _delete_message(self, call: JSONDict) -> bool:
        """Delete a message."""
        chat = self._target_chat(call)
        if self._messages.get(chat["id"], {}).pop(call["message_id"], None) is None:
            raise TelegramApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, call: JSONDict) -> bool:
        """Answer a callback query issued by :meth:`tap_button`."""
        query_id = str(call["params"].get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
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

    def _get_file(self, call: JSONDict) -> JSONDict:
        """Describe a stored file so that the bot can download it."""
        stored = self._files.get(str(call["params"].get("file_id")))
        if stored is None:
            raise TelegramApiError(400, "Bad Request: invalid file_id")
        keys = ("file_id", "file_unique_id", "file_size", "file_path")
        return {key: stored[key] for key in keys}

    # -- simulating the patient --------------------------------------------------------------

    def send_update(self, update: JSONDict) -> int:
        """Queue a raw update (update_id is filled in when missing) and return its update_id."""
        update = copy.deepcopy(update)
        with self._cond:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            chat = _update_chat(update)
            if chat is not None and "id" in chat:
                key = _chat_key(chat["id"])
                self._chats.setdefault(key, copy.deepcopy(chat))
                self._user_marks[key] = self._seq
                payload = update[_update_type(update) or ""]
                message_id = payload.get("message_id")
                if isinstance(message_id, int) and payload.get("chat") is chat:
                    last = self._last_message_id.get(key, 0)
                    self._last_message_id[key] = max(last, message_id)
                    stored = self._messages.setdefault(key, {})
                    if stored.get(message_id, payload).get("from") == payload.get("from"):
                        stored[message_id] = copy.deepcopy(payload)  # never clobber bot messages
            self._cond.notify_all()
        self._wake_pollers()
        return update["update_id"]

    @staticmethod
    def _user(
        chat_id: Any,
        user_id: int | None,
        first_name: str,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Build the patient's User object (private chats share the user's id)."""
        if user_id is None:
            user_id = chat_id if isinstance(chat_id, int) and chat_id > 0 else 1000
        user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        return {key: value for key, value in user.items() if value is not None}

    def send_user_message(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        chat_title: str = "Test group",
        **fields: Any,
    ) -> int:
        """Queue a patient message with any Message fields (text, contact...); return update_id."""
        key = _chat_key(chat_id)
        user = self._user(key, user_id, first_name, language_code, last_name, username)
        if chat_type == "private":
            chat = {k: v for k, v in user.items() if k in ("first_name", "last_name", "username")}
            chat = {"id": key, "type": "private", **chat}
        else:
            chat = {"id": key, "type": chat_type, "title": chat_title}
        with self._cond:
            self._chats[key] = chat
            message = {
                "message_id": self._new_message_id(key),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
                **fields,
            }
            return self.send_update({"message": message})

    def send_text(self, chat_id: int, text: str, **kwargs: Any) -> int:
        """Queue a patient text message (``/commands`` get a bot_command entity); return update_id.

        Keyword arguments are those of :meth:`send_user_message` (user_id, first_name,
        language_code, chat_type, ...).
        """
        fields: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self.send_user_message(chat_id, **fields, **kwargs)

    def send_contact(self, chat_id: int, phone_number: str, **kwargs: Any) -> int:
        """Queue a patient sharing their own contact (as a request_contact button does)."""
        key = _chat_key(chat_id)
        user = self._user(key, kwargs.get("user_id"), kwargs.get("first_name", "Test"), None)
        contact = {"phone_number": phone_number, "first_name": user["first_name"]}
        contact["user_id"] = user["id"]
        return self.send_user_message(chat_id, contact=contact, **kwargs)

    def add_file(
        self, data: bytes, file_name: str = "file.bin", mime_type: str | None = None
    ) -> JSONDict:
        """Store a file the bot can fetch with getFile; return file_id, file_unique_id, etc."""
        with self._lock:
            return self._store_file(data, file_name, mime_type)

    def send_document(
        self,
        chat_id: int,
        data: bytes,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        **kwargs: Any,
    ) -> int:
        """Queue a patient uploading a document; return update_id."""
        info = self.add_file(data, file_name, mime_type)
        document = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        extra = {"caption": caption} if caption is not None else {}
        return self.send_user_message(chat_id, document=document, **extra, **kwargs)

    def send_photo(
        self, chat_id: int, data: bytes, *, caption: str | None = None, **kwargs: Any
    ) -> int:
        """Queue a patient sending a photo; return update_id."""
        info = self.add_file(data, "photo.jpg", "image/jpeg")
        size = {"width": 320, "height": 320, "file_size": len(data)}
        photo = [{"file_id": info["file_id"], "file_unique_id": info["file_unique_id"], **size}]
        extra = {"caption": caption} if caption is not None else {}
        return self.send_user_message(chat_id, photo=photo, **extra, **kwargs)

    def _bot_messages(self, chat_id: Any) -> list[JSONDict]:
        """Return the bot's stored messages in a chat, newest first."""
        messages = self._messages.get(chat_id, {})
        return [
            messages[i]
            for i in sorted(messages, reverse=True)
            if messages[i].get("from", {}).get("id") == self.bot_user["id"]
        ]

    def _button_error(self, chat_id: Any, what: str) -> ButtonNotFoundError:
        """Build a helpful error listing the buttons currently on screen."""
        shown = [
            f"message {m['message_id']}: {self.buttons(m)}"
            for m in self._bot_messages(chat_id)
            if self.buttons(m)
        ]
        return ButtonNotFoundError(
            f"no inline button with {what} in chat {chat_id}; current keyboards: {shown or 'none'}"
        )

    def tap_button(
        self,
        chat_id: int,
        callback_data: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
        first_name: str = "Test",
        language_code: str | None = "en",
        allow_unknown: bool = False,
    ) -> int:
        """Queue a CallbackQuery for an inline button the bot showed; return update_id.

        By default the query's message is the newest bot message in the chat whose keyboard
        holds ``callback_data``; :class:`ButtonNotFoundError` is raised if there is none,
        unless ``allow_unknown`` is set.
        """
        key = _chat_key(chat_id)
        with self._cond:
            candidates = self._bot_messages(key)
            if message_id is not None:
                stored = self._messages.get(key, {}).get(message_id)
                candidates = [stored] if stored is not None else []
            has_button = [m for m in candidates if callback_data in dict(self.buttons(m)).values()]
            message: JSONDict | None = has_button[0] if has_button else None
            if message is None:
                if not allow_unknown:
                    raise self._button_error(key, f"callback_data {callback_data!r}")
                message = candidates[0] if candidates else None
            query_id = str(next(self._callback_ids))
            query: JSONDict = {
                "id": query_id,
                "from": self._user(key, user_id, first_name, language_code),
                "chat_instance": f"instance-{key}",
                "data": callback_data,
            }
            if message is not None:
                query["message"] = copy.deepcopy(message)
            elif message_id is not None:
                chat = self._chats.get(key, {"id": key, "type": "private", "first_name": "Test"})
                query["message"] = {"message_id": message_id, "chat": chat, "date": 0}
            self._callback_queries[query_id] = {"chat_id": key, "data": callback_data}
            return self.send_update({"callback_query": query})

    def tap_label(self, chat_id: int, label: str, **kwargs: Any) -> int:
        """Tap the newest inline button with this label; other arguments as in tap_button."""
        key = _chat_key(chat_id)
        with self._lock:
            for message in self._bot_messages(key):
                for text, data in self.buttons(message):
                    if text == label and data is not None:
                        kwargs.setdefault("message_id", message["message_id"])
                        return self.tap_button(chat_id, data, **kwargs)
            raise self._button_error(key, f"label {label!r}")

    # -- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[JSONDict]:
        """Return recorded calls (all but getUpdates), optionally only those of one method."""
        with self._lock:
            return [
                copy.deepcopy(call)
                for call in self._calls
                if method is None or call["method"].lower() == method.lower()
            ]

    def sent(self, chat_id: int, *, after: int | None = None) -> list[JSONDict]:
        """Return the bot messages (sends and edits) recorded for a chat, after a marker."""
        key = _chat_key(chat_id)
        with self._lock:
            return [
                copy.deepcopy(call)
                for call in self._calls
                if call["chat_id"] == key
                and call["message"] is not None
                and call["seq"] > (after or 0)
            ]

    def texts(self, chat_id: int, *, after: int | None = None) -> list[str]:
        """Return the texts of the bot's text messages and text edits in a chat."""
        return [
            call["text"] for call in self.sent(chat_id, after=after) if call["text"] is not None
        ]

    def mark(self, chat_id: int | None = None) -> int:
        """Return the current sequence number, to pass as ``after=`` later (chat_id is optional)."""
        with self._lock:
            return self._seq

    @staticmethod
    def buttons(message: JSONDict) -> list[tuple[str, str | None]]:
        """Return (text, callback_data) pairs of a recorded call's or Message's keyboard.

        URL buttons and reply-keyboard buttons have ``None`` as callback_data.
        """
        markup = message.get("reply_markup") or {}
        if not isinstance(markup, dict):
            return []
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        pairs: list[tuple[str, str | None]] = []
        for row in rows:
            for button in row:
                if isinstance(button, str):
                    pairs.append((button, None))
                else:
                    pairs.append((button.get("text", ""), button.get("callback_data")))
        return pairs

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
    def unknown_methods(self) -> list[str]:
        """Return the names of methods the bot called that the emulator does not implement."""
        return [
            call["method"]
            for call in self.calls()
            if call["error"] and call["error"]["description"] == "Bad Request: method not found"
        ]

    @property
    def pending_updates(self) -> int:
        """Return how many queued updates the bot has not confirmed yet."""
        with self._lock:
            return len(self._updates)

    @property
    def get_updates_count(self) -> int:
        """Return how many getUpdates requests the bot has made."""
        with self._lock:
            return self._get_updates_count

    # -- waiting -----------------------------------------------------------------------------

    def _report(self, chat_id: Any, after: int, timeout: float, goal: str) -> str:
        """Describe what a chat received, for timeout assertion messages."""
        key = _chat_key(chat_id)
        with self._lock:
            calls = [c for c in self._calls if c["chat_id"] == key and c["seq"] > after]
        received = "\n  ".join(_summarize(c) for c in calls) or "nothing"
        report = f"timed out after {timeout}s waiting for {goal} in chat {chat_id} (after #{after})"
        report += f"; bot calls received:\n  {received}"
        if self.unknown_methods:
            report += f"\nunknown methods called: {self.unknown_methods}"
        if self.internal_errors:
            report += f"\nemulator errors: {self.internal_errors}"
        return report

    def _until(
        self, chat_id: int, predicate: Predicate, count: int | None, after: int, timeout: float
    ) -> _Waiter:
        """Yield sleep intervals until the chat's bot messages satisfy the condition."""
        if isinstance(predicate, str):
            needle = predicate
            goal = f"a message containing {needle!r}"

            def check(messages: list[JSONDict]) -> object:
                return any(needle in (m["text"] or m["caption"] or "") for m in messages)

        elif predicate is not None:
            goal, check = "the predicate", predicate
        else:
            goal, check = "a bot message", bool
        if count is not None:
            goal = f"{count} bot message(s)" + ("" if predicate is None else f" and {goal}")
        deadline = time.monotonic() + timeout
        while True:
            messages = self.sent(chat_id, after=after)
            enough = count is None or len(messages) >= count
            if enough and ((predicate is None and count is not None) or check(messages)):
                return messages
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._report(chat_id, after, timeout, goal))
            yield min(_POLL_INTERVAL, remaining)

    def _reply(self, chat_id: int, after: int, timeout: float, settle: float) -> _Waiter:
        """Yield sleep intervals until a reply has arrived and the chat stayed quiet."""
        deadline = time.monotonic() + timeout
        seen, changed_at = 0, time.monotonic()
        while True:
            now = time.monotonic()
            messages = self.sent(chat_id, after=after)
            if len(messages) != seen:
                seen, changed_at = len(messages), now
            if seen and (now - changed_at >= settle or now >= deadline):
                return messages
            if now >= deadline:
                raise AssertionError(self._report(chat_id, after, timeout, "a reply"))
            until = min(deadline, changed_at + settle) if seen else deadline
            yield max(0.005, min(_POLL_INTERVAL, until - now))

    def _reply_marker(self, chat_id: int, after: int | None) -> int:
        """Default marker: the sequence number when the patient last acted in the chat."""
        if after is not None:
            return after
        with self._lock:
            return self._user_marks.get(_chat_key(chat_id), 0)

    def _run(self, waiter: _Waiter) -> list[JSONDict]:
        """Drive a waiter, blocking this thread."""
        try:
            while True:
                delay = next(waiter)
                with self._cond:
                    self._cond.wait(delay)
        except StopIteration as done:
            return done.value

    @staticmethod
    async def _arun(waiter: _Waiter) -> list[JSONDict]:
        """Drive a waiter without blocking the running event loop."""
        try:
            while True:  # noqa: ASYNC110 - the condition is fed by other threads
                await asyncio.sleep(next(waiter))
        except StopIteration as done:
            return done.value

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

        ``predicate`` gets the list of messages; a string means "some text or caption contains
        it"; None means "at least ``count`` messages" (or at least one). Raises AssertionError
        listing what was received on timeout. Do not call this from the event loop that runs
        an in-process bot: use :meth:`async_wait_for` there.
        """
        return self._run(self._until(chat_id, predicate, count, after or 0, timeout))

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
        return await self._arun(self._until(chat_id, predicate, count, after or 0, timeout))

    def wait_for_reply(
        self,
        chat_id: int,
        *,
        after: int | None = None,
        timeout: float = 30.0,
        settle: float = 0.5,
    ) -> list[JSONDict]:
        """Block until new bot messages arrive and none follow for ``settle`` s; return them.

        ``after`` defaults to the marker taken when the patient last sent an update to this
        chat, so ``send_text(...)`` followed by ``wait_for_reply(chat)`` just works.
        """
        after = self._reply_marker(chat_id, after)
        return self._run(self._reply(chat_id, after, timeout, settle))

    async def async_wait_for_reply(
        self,
        chat_id: int,
        *,
        after: int | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109 - same signature as the sync variant
        settle: float = 0.5,
    ) -> list[JSONDict]:
        """Await :meth:`wait_for_reply` without blocking the event loop."""
        after = self._reply_marker(chat_id, after)
        return await self._arun(self._reply(chat_id, after, timeout, settle))

    def wait_until_polling(self, timeout: float = 30.0) -> None:
        """Block until the bot has made at least one getUpdates request."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._get_updates_count > 0, timeout):
                raise AssertionError(f"the bot did not call getUpdates within {timeout}s")

    # -- failure injection -------------------------------------------------------------------

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
            try:
                description = HTTPStatus(error_code).phrase
            except ValueError:
                description = "Injected failure"
            if error_code == 400:
                description = "Bad Request: injected failure"
        with self._lock:
            self._failures[method.lower()] = {
                "remaining": times,
                "error_code": error_code,
                "description": description,
                "parameters": parameters,
            }

    def set_down(self, down: bool = True) -> None:
        """Simulate an outage: while down every method (and any token) answers 502."""
        with self._lock:
            self._down = down

    def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """Simulate a patient who blocked the bot: sends to the chat answer 403."""
        with self._lock:
            if blocked:
                self._blocked.add(_chat_key(chat_id))
            else:
                self._blocked.discard(_chat_key(chat_id))

    def clear_failures(self) -> None:
        """Cancel injected failures, outages and blocks."""
        with self._lock:
            self._failures.clear()
            self._blocked.clear()
            self._down = False

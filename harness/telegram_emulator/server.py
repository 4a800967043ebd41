"""The emulator's HTTP side: an aiohttp server on 127.0.0.1 in a background thread with its own
event loop, so that sync tests, async tests and bot subprocesses can all reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any

from aiohttp import web

from harness.telegram_emulator.errors import JSONDict, NotEmulatedError, TelegramApiError
from harness.telegram_emulator.faults import Faults
from harness.telegram_emulator.files import Files
from harness.telegram_emulator.methods import Methods
from harness.telegram_emulator.previews import Crawler
from harness.telegram_emulator.store import Store
from harness.telegram_emulator.updates import Updates

_LOGGER = logging.getLogger(__name__)
HOST = "127.0.0.1"
# Form values arrive as strings; these parameters stay strings, all others are JSON-decoded.
_STRING_PARAMS = frozenset(
    [
        "action",
        "business_connection_id",
        "callback_query_id",
        "ip_address",
        "message_effect_id",
        "parse_mode",
        "secret_token",
        "text",
        "url",
    ]
)


def _coerce(key: str, value: Any) -> Any:
    """Decode one request parameter the way the Bot API does (JSON unless it is a string field)."""
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> JSONDict:
    """Read the query, JSON, urlencoded or multipart parameters of a request."""
    raw: JSONDict = dict(request.query)
    if request.content_type == "application/json" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError as exc:
            raise TelegramApiError(400, "Bad Request: can't parse JSON request body") from exc
        if not isinstance(body, dict):
            raise TelegramApiError(400, "Bad Request: JSON request body must be an object")
        raw.update(body)
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if not isinstance(value, web.FileField):  # files go to methods the emulator lacks
                raw[key] = value if isinstance(value, str) else bytes(value).decode()
    return {key: _coerce(key, value) for key, value in raw.items()}


async def _cancel_pending_tasks() -> None:
    """Cancel whatever still runs on the emulator's loop and wait for it to finish."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Server:
    """Serve ``/bot{token}/{method}`` and ``/file/bot{token}/{file_path}`` for one token; every
    other path answers 404.
    """

    def __init__(
        self,
        token: str,
        store: Store,
        updates: Updates,
        faults: Faults,
        files: Files,
        crawler: Crawler,
    ):
        """Serve one token's Bot API from the store, the update queue, the faults and the files."""
        self.token = token
        self.store = store
        self.updates = updates
        self.faults = faults
        self.files = files
        self.methods = Methods(store, updates, faults, files, crawler)
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._startup_error: BaseException | None = None
        self._pusher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise RuntimeError("TelegramEmulator is not started")
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
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

    def stop(self) -> None:
        """End pending long polls, stop the server and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None or not thread.is_alive():
            return
        self.updates.close()
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError("TelegramEmulator thread did not stop within 15 s")

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
        """Create the aiohttp application, bind it to a free port and start the webhook pusher."""
        self.updates.loop, self.updates.event = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, 0).start()
        self.port = self._runner.addresses[0][1]
        self._pusher = asyncio.get_running_loop().create_task(self.updates.push_to_webhook())

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Answer one Bot API request."""
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            down = TelegramApiError(502, "Bad Gateway")
            return (down if self.faults.down else TelegramApiError(401, "Unauthorized")).response()
        try:
            params = await _read_params(request)
            if method.lower() == "getupdates":
                self.faults.check(method)
                result = await self.updates.long_poll(params)
            else:
                result = self.methods.run(method, params)
        except TelegramApiError as exc:
            return exc.response()
        except Exception as exc:  # the emulator's own failure, outside a recorded call
            _LOGGER.exception("TelegramEmulator failed to handle %s", method)
            error = NotEmulatedError(500, f"Internal Server Error: {exc!r}")
            self.store.note_unserved(method, error)
            return error.response()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        """Serve the bytes of a file at the path getFile gave out."""
        if self.faults.down:
            return TelegramApiError(502, "Bad Gateway").response()
        if request.match_info["token"] != self.token:
            return TelegramApiError(401, "Unauthorized").response()
        data = self.files.download(request.match_info["file_path"])
        if data is None:
            return TelegramApiError(404, "Not Found").response()
        return web.Response(body=data, content_type="application/octet-stream")

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        """Answer paths that are not Bot API endpoints like the real server does."""
        return TelegramApiError(404, "Not Found").response()

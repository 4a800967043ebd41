"""The tus 1.0 resumable upload protocol, as the upload page and any tus client speak it.

Under `/records/{token}/files/`:

- `OPTIONS` names the version (1.0.0), the extensions (creation, termination) and the largest
  file (`Tus-Max-Size`).
- `POST` with `Upload-Length` and `Upload-Metadata` (`label`, base64 as tus says; any other
  key, such as a file's name or type, is ignored) creates an upload: 201 with its `Location`.
  An `Upload-Length` over the per-file limit, or over what the request may still hold, gets 413
  at once: no byte is read.
- `HEAD {id}` gives `Upload-Offset`, the bytes kept so far (they survive a restart).
- `PATCH {id}` with `Content-Type: application/offset+octet-stream` and the `Upload-Offset` it
  starts at (409 when that is not the server's offset) appends bytes, writing them to disk as
  they come. When the last byte arrives, the file is handed to reception. A PATCH that comes
  while an earlier one still writes the same upload (its client lost the connection and tries
  again) ends the earlier one, keeping what it wrote.
- `DELETE {id}` gives an upload up (termination).
- `GET {id}/result` is this service's own addition: the page asks it, once the upload is
  complete, what reception made of the file (see `outcome`).

Every request asks reception whether the link still works (its answer is kept a few seconds):
404 for a link it does not know, 410 for one that expired or was revoked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from .appkeys import COURIER_KEY, LINKS_KEY, LOCKS_KEY, PARTIALS_KEY, SETTINGS_KEY, WRITERS_KEY
from .labels import LABELS
from .partials import Partials, Upload
from .reception_client import LinkGone, LinkUnknown, ReceptionUnavailable, UploadLink

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHUNK_BYTES = 1024 * 1024
DIGITS = re.compile(r"^[0-9]{1,15}$")
RETRY_AFTER_SECONDS = "5"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application) -> None:
    """Serve the protocol under each link's `files/`."""
    app.router.add_route("OPTIONS", "/records/{token}/files/", options)
    app.router.add_post("/records/{token}/files/", create, name="files")
    app.router.add_route("HEAD", "/records/{token}/files/{upload_id}", offset, name="upload")
    app.router.add_patch("/records/{token}/files/{upload_id}", append)
    app.router.add_delete("/records/{token}/files/{upload_id}", terminate)
    app.router.add_get("/records/{token}/files/{upload_id}/result", outcome)


@web.middleware
async def tus_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Say `Tus-Resumable` on every answer, and refuse a version other than 1.0.0 (412)."""
    if "/files/" not in request.path:
        return await handler(request)
    asked = request.headers.get("Tus-Resumable")
    if request.method not in ("OPTIONS", "GET") and asked != TUS_VERSION:
        raise web.HTTPPreconditionFailed(
            headers={"Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION}
        )
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers["Tus-Resumable"] = TUS_VERSION
        raise
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


async def options(request: web.Request) -> web.Response:
    """Describe what this server speaks."""
    return web.Response(
        status=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(request.app[SETTINGS_KEY].max_file_bytes),
        },
    )


async def create(request: web.Request) -> web.Response:
    """Create an upload, or refuse it (413) before any of its bytes is sent."""
    token = request.match_info["token"]
    link = await live_link(request, token)
    length = _number(request.headers.get("Upload-Length"), "Upload-Length")
    label = _label(request.headers.get("Upload-Metadata", ""))
    settings = request.app[SETTINGS_KEY]
    partials = request.app[PARTIALS_KEY]
    if length > settings.max_file_bytes:
        raise _too_large("file_too_large")
    async with _lock(request.app, f"link:{token}"):  # two files cannot share the last room
        under_way = sum(u.length for u in partials.of_link(token) if u.outcome is None)
        if link.bytes_received + under_way + length > settings.max_request_bytes:
            raise _too_large("request_too_large")
        upload = partials.create(token, length, label)
    if length == 0:
        request.app[COURIER_KEY].hand_over(upload)
    location = request.app.router["upload"].url_for(token=token, upload_id=upload.id)
    return web.Response(status=201, headers={"Location": str(location)})


async def offset(request: web.Request) -> web.Response:
    """Say how many bytes of an upload are kept."""
    upload = await _upload(request)
    partials = request.app[PARTIALS_KEY]
    return web.Response(
        status=200,
        headers={
            "Upload-Offset": str(partials.offset(upload)),
            "Upload-Length": str(upload.length),
            "Cache-Control": "no-store",
        },
    )


async def append(request: web.Request) -> web.Response:
    """Append the body at the given offset, keeping every byte on disk as it arrives."""
    upload = await _upload(request)
    if request.content_type != OFFSET_CONTENT_TYPE:
        raise web.HTTPUnsupportedMediaType(text=f"the body must be {OFFSET_CONTENT_TYPE}")
    start = _number(request.headers.get("Upload-Offset"), "Upload-Offset")
    writing = request.app[WRITERS_KEY]
    if (earlier := writing.get(upload.id)) is not None:
        # The client gave that request up (its connection died and it tries again): what the
        # earlier request wrote is kept, and this one goes on from there.
        earlier.cancel()
    lock = _lock(request.app, upload.id)
    async with lock:
        writing[upload.id] = _this_task()
        try:
            return await _append_locked(request, upload, start)
        finally:
            writing.pop(upload.id, None)


async def _append_locked(request: web.Request, upload: Upload, start: int) -> web.Response:
    """Append the body, as the only request writing this upload."""
    partials = request.app[PARTIALS_KEY]
    current = partials.offset(upload)
    if upload.outcome is not None or start != current:
        raise web.HTTPConflict(headers={"Upload-Offset": str(current)})
    room = upload.length - current
    if request.content_length is not None and request.content_length > room:
        raise _too_large("past_upload_length")
    now = current + await _write(request, partials, upload, room)
    if now >= upload.length:
        request.app[COURIER_KEY].hand_over(upload)
    return web.Response(status=204, headers={"Upload-Offset": str(now)})


async def terminate(request: web.Request) -> web.Response:
    """Give an upload up: its bytes are deleted."""
    upload = await _upload(request)
    async with _lock(request.app, upload.id):
        request.app[PARTIALS_KEY].delete(upload)
    return web.Response(status=204)


async def outcome(request: web.Request) -> web.Response:
    """Tell the page where an upload stands, in JSON.

    `{"state": "receiving", "offset": n, "length": n}` while bytes are still expected,
    `{"state": "checking"}` while reception is being handed the file, then
    `{"state": "received", "attachment": {id, label, label_guessed, content_type, size,
    received_at, scan}}` or `{"state": "refused", "code": "unsupported_type"}` (reception's
    code, or `link_gone`).
    """
    upload = await _upload(request)
    partials = request.app[PARTIALS_KEY]
    if upload.outcome is not None:
        body = dict(upload.outcome)
    elif partials.is_complete(upload):
        body = {"state": "checking"}
    else:
        body = {"state": "receiving", "offset": partials.offset(upload), "length": upload.length}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def live_link(request: web.Request, token: str) -> UploadLink:
    """The link, if reception says it works; else 404, 410 or 503."""
    try:
        return await request.app[LINKS_KEY].look_up(token)
    except LinkUnknown:
        raise web.HTTPNotFound(text="unknown_link") from None
    except LinkGone as gone:
        raise web.HTTPGone(text=gone.code) from None
    except ReceptionUnavailable:
        raise web.HTTPServiceUnavailable(headers={"Retry-After": RETRY_AFTER_SECONDS}) from None


async def _upload(request: web.Request) -> Upload:
    """The upload the path names, made through this link; 404 when there is none."""
    token = request.match_info["token"]
    await live_link(request, token)
    upload = request.app[PARTIALS_KEY].get(token, request.match_info["upload_id"])
    if upload is None:
        raise web.HTTPNotFound(text="unknown_upload")
    return upload


async def _write(request: web.Request, partials: Partials, upload: Upload, room: int) -> int:
    """Append the body to the upload, chunk by chunk; return how many bytes were kept."""
    written = 0
    with partials.appender(upload) as out:
        try:
            async for chunk in request.content.iter_chunked(CHUNK_BYTES):
                if written + len(chunk) > room:
                    raise _too_large("past_upload_length")
                await asyncio.to_thread(out.write, chunk)
                written += len(chunk)
        except (aiohttp.ClientPayloadError, ConnectionError):
            logger.info("an upload's connection ended after %d bytes; they are kept", written)
        await asyncio.to_thread(out.flush)
    return written


def _this_task() -> asyncio.Task[object]:
    """The task serving this request."""
    task = asyncio.current_task()
    assert task is not None
    return task


def _lock(app: web.Application, name: str) -> asyncio.Lock:
    """The lock that lets one request at a time write an upload (or create one for a link)."""
    locks = app[LOCKS_KEY]
    lock = locks.get(name)
    if lock is None:
        lock = locks[name] = asyncio.Lock()
    return lock


def _number(raw: str | None, header: str) -> int:
    """A header's whole number of bytes; 400 when it is missing or not one."""
    if raw is None or not DIGITS.match(raw.strip()):
        raise web.HTTPBadRequest(text=f"{header} must be a whole number of bytes")
    return int(raw.strip())


def _label(metadata: str) -> str | None:
    """The label from `Upload-Metadata` (None when absent); 400 for one that does not exist."""
    for pair in filter(None, (part.strip() for part in metadata.split(","))):
        key, _, value = pair.partition(" ")
        if key != "label":
            continue  # a file's name and type are never trusted, so never kept
        try:
            label = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="Upload-Metadata values must be base64") from None
        if label not in LABELS:
            raise web.HTTPBadRequest(text=f"label must be one of {', '.join(LABELS)}")
        return label
    return None


def _too_large(code: str) -> web.HTTPRequestEntityTooLarge:
    """A 413 that names which limit it is, before any byte is read."""
    return web.HTTPRequestEntityTooLarge(
        max_size=0, actual_size=0, text=code, headers={"Connection": "close"}
    )

"""The upload service's app factory: the patients' upload page and its tus endpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from weakref import WeakValueDictionary

import aiohttp
from aiohttp import web

from contentlib import ContentStore

from . import housekeeping, page, tus
from .appkeys import (
    CONTENT_KEY,
    COURIER_KEY,
    LINKS_KEY,
    LOCKS_KEY,
    PARTIALS_KEY,
    SETTINGS_KEY,
    TEMPLATES_KEY,
    WRITERS_KEY,
)
from .delivery import Courier
from .links import Links
from .partials import Partials
from .reception_client import ReceptionClient
from .settings import Settings

__all__ = ["COURIER_KEY", "SETTINGS_KEY", "create_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# tus-js-client, installed by scripts/ensure-tus-js from uploads/js/package-lock.json.
TUS_JS = Path(__file__).parent / "js" / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the page's address holds the link's token
    "X-Robots-Tag": "noindex, nofollow",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(settings: Settings) -> web.Application:
    """Build the upload service from its settings."""
    app = web.Application(
        middlewares=[security_headers_middleware, tus.tus_headers_middleware],
        client_max_size=1024**2,  # bodies are streamed; no handler reads one whole
    )
    app[SETTINGS_KEY] = settings
    app[CONTENT_KEY] = ContentStore(settings.content_dir)
    app[TEMPLATES_KEY] = page.template_environment()
    app[PARTIALS_KEY] = Partials(settings.uploads_dir, settings.key_for_files)
    app[LOCKS_KEY] = WeakValueDictionary()
    app[WRITERS_KEY] = {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/records/{token}", page.page, name="page")
    tus.add_routes(app)
    app.router.add_get("/static/vendor/tus.min.js", tus_js)
    app.router.add_static("/static/", STATIC)
    app.cleanup_ctx.extend([reception_ctx, housekeeping_ctx])
    return app


async def healthz(request: web.Request) -> web.Response:
    """Tell a supervisor that the service is up."""
    return web.json_response({"status": "ok"})


async def tus_js(request: web.Request) -> web.StreamResponse:
    """Serve tus-js-client's browser build, installed from npm by the set-up."""
    if not TUS_JS.is_file():
        logger.error("tus-js-client is not installed: run scripts/ensure-tus-js")
        raise web.HTTPNotFound()
    return web.FileResponse(TUS_JS, headers={"Content-Type": "text/javascript"})


async def reception_ctx(app: web.Application) -> AsyncIterator[None]:
    """Reach reception on one HTTP session, and deliver finished uploads, for the app's life."""
    settings = app[SETTINGS_KEY]
    async with aiohttp.ClientSession() as session:
        reception = ReceptionClient(
            settings.reception_url,
            settings.reception_api_token,
            session,
            settings.reception_timeout_seconds,
        )
        app[LINKS_KEY] = Links(reception, settings.link_cache_seconds)
        courier = Courier(app[PARTIALS_KEY], reception, app[LINKS_KEY])
        app[COURIER_KEY] = courier
        courier.start()
        try:
            yield
        finally:
            await courier.stop()


async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    """Delete uploads that are no longer needed, now and every interval."""
    settings = app[SETTINGS_KEY]
    task = asyncio.create_task(
        housekeeping.keep_tidying(
            app[PARTIALS_KEY],
            app[LINKS_KEY],
            settings.keep_partial_days * 86_400,
            settings.housekeeping_interval_seconds,
        ),
        name="uploads-housekeeping",
    )
    try:
        yield
    finally:
        await housekeeping.stop(task)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the CSP and the other security headers; keep everything but static files uncached."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _secure(error.headers, request)
        raise
    _secure(response.headers, request)
    return response


def _secure(headers: MutableMapping[str, str], request: web.Request) -> None:
    """Set the security headers on an answer's headers."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")

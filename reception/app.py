"""The reception app factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from contentlib import ContentStore
from outbox import Outbox
from rasa_api import RasaApi

from . import (
    accounts_views,
    content_views,
    dicom_views,
    inbox,
    queries,
    records_views,
    reports_views,
    staff_auth,
)
from .api import bearer_auth_middleware, error_middleware, routes
from .appkeys import (
    BOT_KEY,
    CONTENT_KEY,
    ENGINE_KEY,
    HOUSEKEEPING_KEY,
    LOGIN_LIMITER_KEY,
    RASA_KEY,
    RECORDS_KEY,
    SESSIONMAKER_KEY,
    SETTINGS_KEY,
    STAFF_MESSAGES_KEY,
    TEMPLATES_KEY,
)
from .attachments import Records, scanner_for
from .bot_client import BotClient
from .content import ContentDesk
from .db import create_engine, create_sessionmaker
from .follow_ups import remind_once
from .housekeeping import Pass, keep_running
from .login_limits import LoginLimiter
from .migrate import upgrade_all
from .pages import (
    language_middleware,
    page_errors_middleware,
    security_headers_middleware,
    template_environment,
)
from .rasa_client import RasaClient
from .retention import purge_once
from .settings import Settings
from .staff_messages import StaffMessages
from .vault import Vault, service_key

__all__ = ["ENGINE_KEY", "SETTINGS_KEY", "create_app"]

STATIC = Path(__file__).parent / "static"
HOUSEKEEPING_STOP_SECONDS = 10.0


def create_app(settings: Settings) -> web.Application:
    """Build the reception web application from its settings."""
    app = web.Application(
        middlewares=[
            security_headers_middleware,
            language_middleware,
            error_middleware,
            page_errors_middleware,
            bearer_auth_middleware(settings.api_token),
        ]
    )
    app[SETTINGS_KEY] = settings
    app[TEMPLATES_KEY] = template_environment()
    app[CONTENT_KEY] = ContentDesk(ContentStore(settings.content_dir))
    app.add_routes(routes)
    app.add_routes(staff_auth.routes)
    app.add_routes(inbox.routes)
    app.add_routes(dicom_views.routes)
    app.add_routes(accounts_views.routes)
    app.add_routes(content_views.routes)
    app.add_routes(reports_views.routes)
    app.add_routes(records_views.routes)
    app.router.add_static("/static/", STATIC, name="static")
    app.cleanup_ctx.extend(
        [
            database_ctx,
            http_ctx,
            records_ctx,
            staff_messages_ctx,
            login_limits_ctx,
            housekeeping_ctx,
        ]
    )
    return app


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database (migrated to head if asked) for the app's lifetime."""
    settings = app[SETTINGS_KEY]
    engine = create_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await upgrade_all(engine)
        app[ENGINE_KEY] = engine
        app[SESSIONMAKER_KEY] = create_sessionmaker(engine)
        if settings.migrate_on_start:
            async with app[SESSIONMAKER_KEY]() as session:
                await queries.refresh_due_times(session, settings.service_levels)
        yield
    finally:
        await engine.dispose()


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    """Keep one HTTP session, to the bot and to Rasa, for the app's lifetime."""
    settings = app[SETTINGS_KEY]
    async with aiohttp.ClientSession() as session:
        app[BOT_KEY] = BotClient(
            settings.bot_url, settings.api_token, session, settings.bot_timeout_seconds
        )
        app[RASA_KEY] = RasaClient(
            RasaApi(
                settings.rasa_url, settings.rasa_api_token, session, settings.rasa_timeout_seconds
            )
        )
        yield


async def records_ctx(app: web.Application) -> AsyncIterator[None]:
    """Keep the patients' files, encrypted, and scan them, for the app's lifetime."""
    settings = app[SETTINGS_KEY]
    vault = Vault(settings.files_dir, service_key(settings.files_key, settings.session_secret))
    scanner = scanner_for(settings.clamd_socket, settings.clamd_timeout_seconds)
    app[RECORDS_KEY] = Records(app[SESSIONMAKER_KEY], vault, scanner, settings.records)
    yield


async def staff_messages_ctx(app: web.Application) -> AsyncIterator[None]:
    """Deliver the staff messages in reception's outbox to the bot, for the app's lifetime."""
    settings = app[SETTINGS_KEY]
    messages = StaffMessages(
        Outbox(app[ENGINE_KEY], worker_id=settings.instance_name),
        app[BOT_KEY],
        app[SESSIONMAKER_KEY],
        settings.service_levels,
        settings.delivery_wait_seconds,
    )
    await messages.start()
    app[STAFF_MESSAGES_KEY] = messages
    try:
        yield
    finally:
        await messages.stop()


async def login_limits_ctx(app: web.Application) -> AsyncIterator[None]:
    """Count failed logins in memory for the app's lifetime."""
    limiter = LoginLimiter.from_settings(app[SETTINGS_KEY])
    app[LOGIN_LIMITER_KEY] = limiter
    try:
        yield
    finally:
        await limiter.close()


async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    """Purge tickets past their retention period and remind patients, now and every interval.

    The job reads the privacy notice's period and the legal delay through a store of its own,
    so that its passes never change when the editors' pages see an edited file.
    """
    settings = app[SETTINGS_KEY]
    store = ContentStore(settings.content_dir)
    sessionmaker = app[SESSIONMAKER_KEY]
    passes = [
        Pass("retention", lambda: purge_once(sessionmaker, settings.retention_days, store)),
        Pass(
            "follow-ups",
            lambda: remind_once(sessionmaker, app[BOT_KEY], store, settings.follow_ups),
        ),
        Pass("records-scan", app[RECORDS_KEY].rescan_pending),
        Pass("records-sweep", app[RECORDS_KEY].sweep),
    ]
    stop = asyncio.Event()
    task = asyncio.create_task(
        keep_running(passes, settings.retention_interval_seconds, stop),
        name="reception-housekeeping",
    )
    app[HOUSEKEEPING_KEY] = task
    try:
        yield
    finally:
        stop.set()  # a pass under way runs to its end, unless it takes too long
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, HOUSEKEEPING_STOP_SECONDS)

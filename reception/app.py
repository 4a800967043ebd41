"""The reception app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from contentlib import ContentStore

from . import accounts_views, content_views, inbox, staff_auth
from .api import bearer_auth_middleware, error_middleware, routes
from .appkeys import (
    BOT_KEY,
    CONTENT_KEY,
    ENGINE_KEY,
    RASA_KEY,
    SESSIONMAKER_KEY,
    SETTINGS_KEY,
    TEMPLATES_KEY,
)
from .bot_client import BotClient
from .content import ContentDesk
from .db import create_engine, create_sessionmaker
from .migrate import upgrade
from .pages import page_errors_middleware, security_headers_middleware, template_environment
from .rasa_client import RasaClient
from .settings import Settings

__all__ = ["ENGINE_KEY", "SETTINGS_KEY", "create_app"]

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings) -> web.Application:
    """Build the reception web application from its settings."""
    app = web.Application(
        middlewares=[
            security_headers_middleware,
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
    app.add_routes(accounts_views.routes)
    app.add_routes(content_views.routes)
    app.router.add_static("/static/", STATIC, name="static")
    app.cleanup_ctx.extend([database_ctx, http_ctx])
    return app


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database (migrated to head if asked) for the app's lifetime."""
    settings = app[SETTINGS_KEY]
    engine = create_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await upgrade(engine)
        app[ENGINE_KEY] = engine
        app[SESSIONMAKER_KEY] = create_sessionmaker(engine)
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
            settings.rasa_url, settings.rasa_api_token, session, settings.rasa_timeout_seconds
        )
        yield

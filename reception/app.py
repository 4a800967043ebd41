"""The reception app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .api import SESSIONMAKER_KEY, bearer_auth_middleware, error_middleware, routes
from .db import create_engine, create_sessionmaker
from .migrate import upgrade
from .settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
ENGINE_KEY = web.AppKey("engine", AsyncEngine)


def create_app(settings: Settings) -> web.Application:
    """Build the reception web application from its settings."""
    app = web.Application(
        middlewares=[error_middleware, bearer_auth_middleware(settings.api_token)]
    )
    app[SETTINGS_KEY] = settings
    app.add_routes(routes)
    app.cleanup_ctx.append(database_ctx)
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

"""The bot's app factory: the web chat, and Telegram when a token is set."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot import delivery, webchat
from bot.conversation import Conversation
from bot.rasa_client import RasaClient
from bot.safety import SafetyFilter
from bot.settings import Settings
from bot.telegram_channel import TelegramChannel
from contentlib import ContentStore

logger = logging.getLogger(__name__)

settings_key = web.AppKey("settings", Settings)
telegram_key = web.AppKey("telegram", TelegramChannel)


async def healthz(request: web.Request) -> web.Response:
    """Tell a supervisor that the bot is up."""
    return web.json_response({"status": "ok"})


async def conversation_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the HTTP session to Rasa for the app's lifetime."""
    settings = app[settings_key]
    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(settings.rasa_url, session, settings.rasa_timeout_seconds)
        safety = SafetyFilter.load(settings.content_dir / "safety.yml")
        app[webchat.conversation_key] = Conversation(rasa, app[webchat.content_key], safety)
        yield


async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the Telegram channel alongside the web server, when it is configured."""
    settings = app[settings_key]
    if not settings.telegram_enabled:
        logger.info("telegram is off: TELEGRAM_BOT_TOKEN is not set")
        yield
        return
    channel = TelegramChannel(settings, app[webchat.conversation_key])
    await channel.start()
    app[telegram_key] = channel
    try:
        yield
    finally:
        await channel.stop()


def create_app(settings: Settings) -> web.Application:
    """Build the bot's web application."""
    app = web.Application()
    app[settings_key] = settings
    app[webchat.content_key] = ContentStore(settings.content_dir)
    app.cleanup_ctx.extend([conversation_ctx, telegram_ctx])
    app.router.add_get("/healthz", healthz)
    webchat.add_routes(app)
    delivery.add_routes(app, telegram_key, settings.reception_api_token)
    return app

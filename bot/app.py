"""The bot's app factory: the outbox, the web chat, and Telegram when a token is set."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot import delivery, webchat, webchat_records
from bot.conversation import Conversation
from bot.language import LanguageDetector
from bot.rasa_client import RasaClient
from bot.reception_client import ReceptionClient
from bot.safety import SafetyFilter, ordinary_messages
from bot.settings import Settings
from bot.telegram_channel import QUEUES as TELEGRAM_QUEUES
from bot.telegram_channel import TelegramChannel
from bot.telegram_intake import Polling, Webhook
from contentlib import ContentStore
from embeddings import SentenceEncoder
from outbox import Outbox, Purger, create_engine, upgrade

logger = logging.getLogger(__name__)

settings_key = web.AppKey("settings", Settings)
telegram_key = web.AppKey("telegram", TelegramChannel)

# Everything the bot keeps of a conversation, by lane (the conversation's sender id).
CONVERSATION_QUEUES = (*TELEGRAM_QUEUES, delivery.WEBCHAT_QUEUE)


async def healthz(request: web.Request) -> web.Response:
    """Tell a supervisor that the bot is up."""
    return web.json_response({"status": "ok"})


async def outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open (and migrate) the bot's outbox for the app's lifetime."""
    settings = app[settings_key]
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        app[delivery.outbox_key] = Outbox(engine, worker_id=settings.instance_name)
        yield
    finally:
        await engine.dispose()


async def conversation_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the HTTP session to Rasa for the app's lifetime."""
    settings = app[settings_key]
    outbox = app[delivery.outbox_key]

    async def forget(sender_id: str) -> None:
        await outbox.erase_lane(sender_id, CONVERSATION_QUEUES)

    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(settings.rasa_url, session, settings.rasa_timeout_seconds)
        content = app[webchat.content_key]
        safety = await asyncio.to_thread(
            SafetyFilter.load,
            settings.content_dir / "safety.yml",
            settings.content_dir / "safety_examples.yml",
            SentenceEncoder(settings.embedding_cache),
            ordinary_messages(content, settings.nlu_dir),
        )
        detector = LanguageDetector(content.languages)
        app[webchat.conversation_key] = Conversation(rasa, content, safety, forget, detector)
        yield


async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the Telegram channel alongside the web server, when it is configured."""
    settings = app[settings_key]
    if not settings.telegram_enabled:
        logger.info("telegram is off: TELEGRAM_BOT_TOKEN is not set")
        yield
        return
    channel = TelegramChannel(settings, app[webchat.conversation_key], app[delivery.outbox_key])
    await channel.start()
    app[telegram_key] = channel
    polling = None
    if settings.telegram_webhook_url and settings.telegram_webhook_secret:
        await Webhook(telegram_key, settings.telegram_webhook_secret).register(
            channel, settings.telegram_webhook_url
        )
    else:
        polling = Polling(channel, settings.telegram_poll_timeout_seconds)
        await polling.start()
    try:
        yield
    finally:
        if polling is not None:
            await polling.stop()
        await channel.stop()


async def maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """Purge finished outbox jobs older than the settings keep them, now and then."""
    settings = app[settings_key]
    purger = Purger(
        app[delivery.outbox_key],
        settings.outbox_keep_days * 86_400,
        settings.maintenance_interval_seconds,
    )
    await purger.start()
    try:
        yield
    finally:
        await purger.stop()


def create_app(settings: Settings) -> web.Application:
    """Build the bot's web application."""
    app = web.Application()
    app[settings_key] = settings
    app[webchat.content_key] = content = ContentStore(settings.content_dir)
    reception = ReceptionClient(settings.reception_url, settings.reception_api_token)
    app[webchat.attachments_key] = webchat_records.attachments_for(
        reception, content, settings.uploads_url
    )
    app.cleanup_ctx.extend([outbox_ctx, conversation_ctx, telegram_ctx, maintenance_ctx])
    app.router.add_get("/healthz", healthz)
    webchat.add_routes(app)
    webchat_records.add_routes(app)
    delivery.add_routes(app, telegram_key, settings.reception_api_token)
    path = settings.telegram_webhook_path
    if settings.telegram_enabled and path and settings.telegram_webhook_secret:
        app.router.add_post(path, Webhook(telegram_key, settings.telegram_webhook_secret).receive)
    return app

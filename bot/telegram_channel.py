"""The Telegram channel: python-telegram-bot in front of the shared conversation.

Nothing a patient sends or is sent is held only in memory. Every update is first stored in
the outbox (`telegram_updates`, keyed by its update_id, so a redelivered update is processed
once; bot.telegram_intake); a worker runs each chat's updates in order through the handlers
(bot.telegram_handlers), and the replies they produce are stored in the same transaction that
marks the update done (`telegram_messages`). Another worker sends those, in order per chat,
waiting out Telegram's `RetryAfter` and outages (bot.telegram_sending).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.attachments import Attachments
from bot.buttons import CALLBACKS_QUEUE, CallbackPayloads
from bot.conversation import Conversation
from bot.rasa_client import Reply
from bot.reception_client import ReceptionClient
from bot.records import Records
from bot.settings import Settings
from bot.telegram_context import CONTEXT_TYPES
from bot.telegram_handlers import COMMANDS, Handlers
from bot.telegram_intake import UPDATES_QUEUE, store_update
from bot.telegram_sending import MESSAGES_QUEUE, Sending
from outbox import Done, Job, Outbox, Worker

logger = logging.getLogger(__name__)

QUEUES = (UPDATES_QUEUE, MESSAGES_QUEUE, CALLBACKS_QUEUE)
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGES = filters.UpdateType.MESSAGE
# A GIF comes as an animation and a document both: it is no record.
RECORDS = (filters.Document.ALL & ~filters.ANIMATION) | filters.PHOTO


def file_url_for(base_url: str) -> str:
    """The Bot API file URL that goes with a base URL such as https://host/bot."""
    root, separator, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot" if separator else f"{base_url.rstrip('/')}/file/bot"


def application_for(settings: Settings) -> Application:
    """The python-telegram-bot application, rate-limited, with the turn on each context."""
    assert settings.telegram_bot_token
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(AIORateLimiter())
        .updater(None)
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url).base_file_url(
            file_url_for(settings.telegram_api_base_url)
        )
    return builder.build()


def register(application: Application, handlers: Handlers) -> None:
    """Add the handlers in the order they are tried: the first that matches an update wins."""
    private = PRIVATE & NEW_MESSAGES
    application.add_handlers(
        [
            CommandHandler(list(COMMANDS), handlers.on_command, filters=private),
            CommandHandler(list(COMMANDS), handlers.on_group, filters=~PRIVATE & NEW_MESSAGES),
            CallbackQueryHandler(handlers.on_button),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.on_text),
            MessageHandler(private & filters.COMMAND, handlers.on_unknown_command),
            MessageHandler(private & RECORDS, handlers.on_record),
            MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.on_unsupported),
            MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, handlers.on_edited),
            TypeHandler(Update, handlers.on_anything_else),
        ]
    )
    application.add_error_handler(handlers.on_error)


class TelegramChannel:
    """Process stored Telegram updates with the conversation, and send the replies back."""

    def __init__(self, settings: Settings, conversation: Conversation, outbox: Outbox) -> None:
        """Build the python-telegram-bot application, its handlers and the two workers."""
        assert settings.telegram_bot_token
        self.outbox = outbox
        self.payloads = CallbackPayloads(outbox, settings.telegram_bot_token)
        self.application: Application = application_for(settings)
        self.sending = Sending(outbox, self.payloads, self.application.bot)
        reception = ReceptionClient(settings.reception_url, settings.reception_api_token)
        records = Records(Attachments(reception, conversation.content, settings.uploads_url))
        self.handlers = Handlers(
            conversation, self.sending, self.payloads, records, settings.chat_messages_per_minute
        )
        register(self.application, self.handlers)
        self.updates = Worker(outbox, UPDATES_QUEUE, self.process, concurrency=32)
        self.messages = Worker(outbox, MESSAGES_QUEUE, self.sending.send, concurrency=16)

    @property
    def bot(self) -> Any:
        """The Bot API client."""
        return self.application.bot

    async def start(self) -> None:
        """Connect to Telegram and start processing and sending what the outbox holds."""
        await self.application.initialize()
        await self.application.start()
        await self.updates.start()
        await self.messages.start()

    async def stop(self) -> None:
        """Stop the workers (unfinished jobs stay in the outbox) and close the connection."""
        await self.updates.stop()
        await self.messages.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def receive(self, data: dict[str, Any]) -> bool:
        """Store one update as Telegram sent it; False if it was stored before (a duplicate)."""
        return await store_update(self.outbox, data)

    async def deliver(self, chat_id: int, replies: Sequence[Reply], key: str | None = None) -> None:
        """Queue replies for a chat from outside any update (reception, the assistant)."""
        await self.sending.deliver(chat_id, replies, key)

    async def process(self, job: Job) -> Done:
        """Run one stored update through the handlers; its replies are stored as it ends."""
        try:
            update = Update.de_json(job.payload, self.bot)
        except Exception:
            logger.warning("telegram update %s could not be read", job.key)
            return Done(then=await self.handlers.on_unreadable(job.payload))
        with self.application.bot_data.open(update, redelivered=job.attempts > 0) as turn:
            await self.application.process_update(update)
        return Done(then=turn.replies)

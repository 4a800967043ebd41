"""The Telegram channel: python-telegram-bot in front of the shared conversation."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Sequence

from aiolimiter import AsyncLimiter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.buttons import CallbackPayloads
from bot.conversation import Conversation
from bot.rasa_client import Reply
from bot.settings import Settings
from contentlib.markdown import to_telegram_html

logger = logging.getLogger(__name__)

# Telegram commands and the message Rasa receives for each.
COMMANDS = {
    "start": "/greet",
    "help": "/ask_help",
    "language": "/set_language",
    "privacy": "/ask_privacy",
    "restart": "/restart",
    "human": "/request_human",
}
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGES = filters.UpdateType.MESSAGE
SEEN_UPDATES_KEPT = 10_000
UNSUPPORTED = (
    filters.PHOTO
    | filters.Document.ALL
    | filters.Sticker.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
)


def sender_id(update: Update) -> str:
    """The Rasa conversation id of the chat this update belongs to."""
    assert update.effective_chat is not None
    return f"telegram:{update.effective_chat.id}"


def language(update: Update) -> str | None:
    """The language Telegram reports for the patient's app."""
    user = update.effective_user
    return user.language_code if user else None


def file_url_for(base_url: str) -> str:
    """The Bot API file URL that goes with a base URL such as https://host/bot."""
    root, separator, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot" if separator else f"{base_url.rstrip('/')}/file/bot"


def chunks(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split text into pieces Telegram accepts, preferring paragraph and line breaks."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(
            text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit)
        )
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


class TelegramChannel:
    """Receive Telegram updates, ask the conversation, and send its replies back."""

    def __init__(self, settings: Settings, conversation: Conversation) -> None:
        """Build the python-telegram-bot application and register the handlers."""
        assert settings.telegram_bot_token
        self.settings = settings
        self.conversation = conversation
        self.payloads = CallbackPayloads()
        self._chat_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._chat_limits: defaultdict[int, AsyncLimiter] = defaultdict(
            lambda: AsyncLimiter(settings.chat_messages_per_minute, 60)
        )
        self._seen_updates: OrderedDict[int, None] = OrderedDict()
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .rate_limiter(AIORateLimiter())
            .concurrent_updates(True)
        )
        if settings.telegram_api_base_url:
            builder = builder.base_url(settings.telegram_api_base_url).base_file_url(
                file_url_for(settings.telegram_api_base_url)
            )
        self.application: Application = builder.build()
        add = self.application.add_handler
        add(TypeHandler(Update, self.drop_duplicates), group=-1)
        for command in COMMANDS:
            add(CommandHandler(command, self.on_command, filters=PRIVATE & NEW_MESSAGES))
        add(CommandHandler(list(COMMANDS), self.on_group, filters=~PRIVATE & NEW_MESSAGES))
        add(CallbackQueryHandler(self.on_button))
        add(MessageHandler(PRIVATE & NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, self.on_text))
        add(MessageHandler(PRIVATE & NEW_MESSAGES & UNSUPPORTED, self.on_unsupported))
        add(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        self.application.add_error_handler(self.on_error)

    async def start(self) -> None:
        """Connect to Telegram and start polling for updates."""
        await self.application.initialize()
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            poll_interval=0,
            timeout=self.settings.telegram_poll_timeout_seconds,
            allowed_updates=Update.ALL_TYPES,
        )
        logger.info("telegram polling started")

    async def stop(self) -> None:
        """Stop polling and close the connection to Telegram."""
        assert self.application.updater is not None
        if self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def converse(self, update: Update, message: str) -> None:
        """Send one patient message to the conversation and deliver its replies, in order."""
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        async with self._chat_locks[chat_id], self._chat_limits[chat_id]:
            await update.effective_chat.send_action(ChatAction.TYPING)
            replies = await self.conversation.respond(
                sender_id(update), message, language(update), update.effective_chat.type
            )
            await self.deliver(chat_id, replies)

    async def deliver(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Send replies as HTML messages, with buttons as an inline keyboard."""
        bot = self.application.bot
        for reply in replies:
            keyboard = self.keyboard(reply)
            pieces = chunks(to_telegram_html(reply.text)) or [""]
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await bot.send_message(
                    chat_id,
                    piece or "…",
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard if last else None,
                )

    def keyboard(self, reply: Reply) -> InlineKeyboardMarkup | None:
        """An inline keyboard with one button per row, or None without buttons."""
        if not reply.buttons:
            return None
        rows = [
            [InlineKeyboardButton(b.title, callback_data=self.payloads.encode(b.payload))]
            for b in reply.buttons
        ]
        return InlineKeyboardMarkup(rows)

    async def drop_duplicates(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop an update Telegram delivers a second time; each is processed once."""
        if update.update_id in self._seen_updates:
            logger.info("duplicate telegram update dropped")
            raise ApplicationHandlerStop
        self._seen_updates[update.update_id] = None
        if len(self._seen_updates) > SEEN_UPDATES_KEPT:
            self._seen_updates.popitem(last=False)

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group, ask for a private chat: health questions are not for an audience."""
        assert update.effective_chat is not None
        notice = self.conversation.notice("group_chat", language(update))
        await self.deliver(update.effective_chat.id, [notice])

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain that a correction must be sent as a new message."""
        assert update.effective_chat is not None
        notice = self.conversation.notice("edited_message", language(update))
        await self.deliver(update.effective_chat.id, [notice])

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a command to the conversation as the intent it stands for."""
        assert update.effective_message is not None and update.effective_message.text
        command = update.effective_message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self.converse(update, COMMANDS[command])

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass the patient's text to the conversation."""
        assert update.effective_message is not None
        await self.converse(update, update.effective_message.text or "")

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the button tap, then pass its payload to the conversation."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        payload = self.payloads.decode(query.data)
        if update.effective_chat is None:
            return
        if payload is None:
            notice = self.conversation.notice("button_expired", language(update))
            await self.deliver(update.effective_chat.id, [notice])
            return
        await self.converse(update, payload)

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain politely that only text can be read."""
        assert update.effective_chat is not None
        notice = self.conversation.notice("unsupported_media", language(update))
        await self.deliver(update.effective_chat.id, [notice])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a handler's failure without the patient's text, and tell the patient."""
        logger.error("telegram handler failed: %r", context.error.__class__.__name__)
        if isinstance(update, Update) and update.effective_chat is not None:
            notice = self.conversation.notice("service_unavailable", language(update))
            try:
                await self.deliver(update.effective_chat.id, [notice])
            except TelegramError as error:
                logger.error("could not tell the patient: %r", error.__class__.__name__)

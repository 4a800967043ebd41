"""The Telegram channel: python-telegram-bot in front of the shared conversation.

Nothing a patient sends or is sent is held only in memory. Every update is first stored in
the outbox (`telegram_updates`, keyed by its update_id, so a redelivered update is processed
once); a worker processes each chat's updates in order, and the replies they produce are
stored in the same transaction that marks the update done (`telegram_messages`). Another
worker sends those, in order per chat, waiting out Telegram's `RetryAfter` and outages.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.buttons import CALLBACKS_QUEUE, CallbackPayloads
from bot.conversation import Conversation
from bot.rasa_client import Reply
from bot.settings import Settings
from contentlib.markdown import to_telegram_html
from outbox import Done, GiveUp, Job, NewJob, Outbox, RetryLater, Worker

logger = logging.getLogger(__name__)

UPDATES_QUEUE = "telegram_updates"
MESSAGES_QUEUE = "telegram_messages"
QUEUES = (UPDATES_QUEUE, MESSAGES_QUEUE, CALLBACKS_QUEUE)

# Telegram commands and the message Rasa receives for each.
COMMANDS = {
    "start": "/greet",
    "help": "/ask_help",
    "language": "/set_language",
    "privacy": "/ask_privacy",
    "restart": "/restart",
    "human": "/request_human",
    "delete": "/request_erasure",
}
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGES = filters.UpdateType.MESSAGE

# The replies of the update being processed, stored when it is marked done.
_replies: ContextVar[list[NewJob] | None] = ContextVar("telegram_replies", default=None)
# Whether the update being processed may have been processed before (the bot was interrupted).
_redelivered: ContextVar[bool] = ContextVar("telegram_redelivered", default=False)


def sender_id(update: Update) -> str:
    """The Rasa conversation id of the chat this update belongs to."""
    assert update.effective_chat is not None
    return lane_of_chat(update.effective_chat.id)


def origin_of(data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The chat and the sender of an update as Telegram sent it, read without parsing it
    (so that even an update the library cannot read has its chat); either may be missing."""
    for value in data.values():
        if not isinstance(value, dict):
            continue
        message = value.get("message")
        chat = value.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        user = value.get("from") or value.get("user")
        return (chat if isinstance(chat, dict) else None, user if isinstance(user, dict) else None)
    return None, None


def lane_of_chat(chat_id: int | str) -> str:
    """A chat's lane in the outbox, which is also its Rasa conversation id."""
    return f"telegram:{chat_id}"


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


def seconds(value: int | float | timedelta) -> float:
    """A Bot API time period (seconds, or a timedelta with PTB_TIMEDELTA) in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """Process stored Telegram updates with the conversation, and send the replies back."""

    def __init__(self, settings: Settings, conversation: Conversation, outbox: Outbox) -> None:
        """Build the python-telegram-bot application, its handlers and the two workers."""
        assert settings.telegram_bot_token
        self.settings = settings
        self.conversation = conversation
        self.outbox = outbox
        self.payloads = CallbackPayloads(outbox, settings.telegram_bot_token)
        self._chat_limits: defaultdict[int, AsyncLimiter] = defaultdict(
            lambda: AsyncLimiter(settings.chat_messages_per_minute, 60)
        )
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .rate_limiter(AIORateLimiter())
            .updater(None)
        )
        if settings.telegram_api_base_url:
            builder = builder.base_url(settings.telegram_api_base_url).base_file_url(
                file_url_for(settings.telegram_api_base_url)
            )
        self.application: Application = builder.build()
        add = self.application.add_handler
        for command in COMMANDS:
            add(CommandHandler(command, self.on_command, filters=PRIVATE & NEW_MESSAGES))
        add(CommandHandler(list(COMMANDS), self.on_group, filters=~PRIVATE & NEW_MESSAGES))
        add(CallbackQueryHandler(self.on_button))
        add(MessageHandler(PRIVATE & NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, self.on_text))
        add(MessageHandler(PRIVATE & NEW_MESSAGES & filters.COMMAND, self.on_unknown_command))
        add(MessageHandler(PRIVATE & NEW_MESSAGES & ~filters.StatusUpdate.ALL, self.on_unsupported))
        add(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        add(TypeHandler(Update, self.on_anything_else))
        self.application.add_error_handler(self.on_error)
        self.updates = Worker(outbox, UPDATES_QUEUE, self.process, concurrency=32)
        self.messages = Worker(outbox, MESSAGES_QUEUE, self.send, concurrency=16)

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

    # -- intake ------------------------------------------------------------------------------

    async def receive(self, data: dict[str, Any]) -> bool:
        """Store one update as Telegram sent it; False if it was stored before (a duplicate)."""
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ValueError("an update needs an integer update_id")
        _, new = await self.outbox.put_new(
            UPDATES_QUEUE, self._lane_of(data), data, key=str(update_id)
        )
        if not new:
            logger.info("duplicate telegram update dropped")
        return new

    def _lane_of(self, data: dict[str, Any]) -> str:
        """The chat an update belongs to (updates without a chat share their sender's lane)."""
        chat, user = origin_of(data)
        if chat is not None and "id" in chat:
            return lane_of_chat(chat["id"])
        if user is not None and "id" in user:
            return f"telegram:user:{user['id']}"
        return "telegram:other"

    # -- processing --------------------------------------------------------------------------

    async def process(self, job: Job) -> Done:
        """Run one stored update through the handlers; its replies are stored as it ends."""
        try:
            update = Update.de_json(job.payload, self.bot)
        except Exception:
            logger.warning("telegram update %s could not be read", job.key)
            return Done(then=await self._unreadable(job.payload))
        replies: list[NewJob] = []
        collecting = _replies.set(replies)
        redelivered = _redelivered.set(job.attempts > 0)
        try:
            await self.application.process_update(update)
        finally:
            _replies.reset(collecting)
            _redelivered.reset(redelivered)
        return Done(then=replies)

    async def _unreadable(self, data: dict[str, Any]) -> list[NewJob]:
        """Answer an update the library cannot read, if it comes from a private chat."""
        chat, user = origin_of(data)
        if chat is None or chat.get("type") != "private" or not isinstance(chat.get("id"), int):
            return []
        notice = self.conversation.notice("unsupported_media", (user or {}).get("language_code"))
        return await self.messages_for(chat["id"], [notice])

    async def converse(self, update: Update, message: str) -> None:
        """Send one patient message to the conversation and deliver its replies, in order."""
        assert update.effective_chat is not None and update.effective_message is not None
        chat = update.effective_chat
        async with self._chat_limits[chat.id]:
            with contextlib.suppress(TelegramError):
                await chat.send_action(ChatAction.TYPING)
            message_id = f"telegram-update-{update.update_id}"
            # What must leave before Rasa answers is stored at once, ahead of the update's other
            # replies; the key keeps a redelivered update from sending it twice.
            send_now = functools.partial(
                self.deliver, chat.id, key=f"{message_id}:first", at_once=True
            )
            replies = await self.conversation.respond(
                sender_id(update),
                message,
                language(update),
                chat.type,
                message_id=message_id,
                redelivered=_redelivered.get(),
                send_now=send_now,
            )
            await self.deliver(chat.id, replies)

    async def deliver(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        key: str | None = None,
        at_once: bool = False,
    ) -> None:
        """Queue replies for a chat: stored with the update being processed when it is done,
        or at once (outside an update, or when asked)."""
        jobs = await self.messages_for(chat_id, replies, key)
        collecting = _replies.get()
        if collecting is not None and not at_once:
            collecting.extend(jobs)
        else:
            await self.outbox.put_many(jobs)

    async def messages_for(
        self, chat_id: int, replies: Sequence[Reply], key: str | None = None
    ) -> list[NewJob]:
        """The outbox jobs that send replies: HTML pieces, buttons on the last piece."""
        lane = lane_of_chat(chat_id)
        jobs = []
        for reply in replies:
            keyboard = await self.keyboard(reply, lane)
            pieces = chunks(to_telegram_html(reply.text)) or ["…"]
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                payload = {
                    "chat_id": chat_id,
                    "text": piece,
                    "keyboard": keyboard if last else None,
                }
                job_key = f"{key}:{len(jobs)}" if key else None
                jobs.append(NewJob(MESSAGES_QUEUE, lane, payload, job_key))
        return jobs

    async def keyboard(self, reply: Reply, lane: str) -> list[list[str]] | None:
        """One button per row, as [title, callback data] pairs, or None without buttons."""
        if not reply.buttons:
            return None
        return [[b.title, await self.payloads.encode(b.payload, lane)] for b in reply.buttons]

    # -- sending -----------------------------------------------------------------------------

    async def send(self, job: Job) -> None:
        """Send one stored message; wait out RetryAfter and outages, give up on refusals."""
        message = job.payload
        markup = None
        if message.get("keyboard"):
            rows = [
                [InlineKeyboardButton(title, callback_data=data)]
                for title, data in message["keyboard"]
            ]
            markup = InlineKeyboardMarkup(rows)
        try:
            await self.bot.send_message(
                message["chat_id"], message["text"], parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except RetryAfter as error:
            raise RetryLater(
                "telegram asks to slow down", after=seconds(error.retry_after)
            ) from None
        except Forbidden:
            raise GiveUp("the patient has blocked the bot") from None
        except BadRequest as error:
            raise GiveUp(f"telegram refused the message ({type(error).__name__})") from None
        except TelegramError as error:
            raise RetryLater(f"telegram unreachable ({type(error).__name__})") from None

    # -- handlers ----------------------------------------------------------------------------

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group, ask for a private chat: health questions are not for an audience."""
        await self._notice(update, "group_chat")

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain that a correction must be sent as a new message."""
        await self._notice(update, "edited_message")

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a command to the conversation as the intent it stands for."""
        assert update.effective_message is not None and update.effective_message.text
        command = update.effective_message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self.converse(update, COMMANDS[command])

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a command the bot does not have with the list of those it has."""
        await self.converse(update, COMMANDS["help"])

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass the patient's text to the conversation."""
        assert update.effective_message is not None
        await self.converse(update, update.effective_message.text or "")

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the button tap, then pass its payload to the conversation."""
        query = update.callback_query
        assert query is not None
        with contextlib.suppress(TelegramError):  # too old after an outage: tapped all the same
            await query.answer()
        if update.effective_chat is None or update.effective_chat.type != "private":
            return
        payload = await self.payloads.decode(query.data)
        if payload is None:
            await self._notice(update, "button_expired")
            return
        await self.converse(update, payload)

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain politely that only text can be read."""
        await self._notice(update, "unsupported_media")

    async def on_anything_else(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ignore, on purpose, updates no patient is waiting for an answer to."""
        logger.info("telegram update of a kind the bot does not answer ignored")

    async def _notice(self, update: Update, key: str) -> None:
        """Send a message from content to the update's chat, without asking Rasa."""
        assert update.effective_chat is not None
        notice = self.conversation.notice(key, language(update))
        await self.deliver(update.effective_chat.id, [notice])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a handler's failure without the patient's text, and tell the patient."""
        logger.error("telegram handler failed: %s", type(context.error).__name__)
        if isinstance(update, Update) and update.effective_chat is not None:
            notice = self.conversation.notice("service_unavailable", language(update))
            await self.deliver(update.effective_chat.id, [notice])

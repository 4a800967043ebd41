"""The handlers: each kind of Telegram update, turned into a turn of the conversation.

Commands, text and button taps go to the conversation; documents and photos, and taps on their
label buttons, go to the records (bot.records). Group chats, edits, other media and updates the
library cannot read get a notice from content, without asking Rasa. Every reply joins the
turn of the update being handled (bot.telegram_context), except what must leave before Rasa
answers, which is stored at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.buttons import CallbackPayloads
from bot.conversation import Conversation
from bot.rasa_client import Reply
from bot.records import LabelChoice, Records, SentFile
from bot.telegram_context import TurnContext
from bot.telegram_intake import origin_of
from bot.telegram_sending import Sending
from conversation_id import ConversationId
from outbox import NewJob

logger = logging.getLogger(__name__)

# Telegram commands and the message Rasa receives for each.
COMMANDS = {
    "start": "/greet",
    "help": "/ask_help",
    "language": "/set_language",
    "privacy": "/ask_privacy",
    "restart": "/restart",
    "human": "/request_human",
    "records": "/send_records",
    "delete": "/request_erasure",
}


def sender_id(update: Update) -> str:
    """The Rasa conversation id of the chat this update belongs to."""
    assert update.effective_chat is not None
    return str(ConversationId.telegram(update.effective_chat.id))


def language(update: Update) -> str | None:
    """The language Telegram reports for the patient's app."""
    user = update.effective_user
    return user.language_code if user else None


class Handlers:
    """The callbacks for each kind of update, bound to the conversation and the outbox."""

    def __init__(
        self,
        conversation: Conversation,
        sending: Sending,
        payloads: CallbackPayloads,
        records: Records,
        messages_per_minute: float,
    ) -> None:
        """Answer through `sending`, and let each chat ask Rasa (or send a file) at most so
        often.
        """
        self.conversation = conversation
        self.sending = sending
        self.payloads = payloads
        self.records = records
        self._chat_limits: defaultdict[int, AsyncLimiter] = defaultdict(
            lambda: AsyncLimiter(messages_per_minute, 60)
        )

    async def converse(self, update: Update, context: TurnContext, message: str) -> None:
        """Send one patient message to the conversation and deliver its replies, in order."""
        assert update.effective_chat is not None and update.effective_message is not None
        chat = update.effective_chat
        async with self._chat_limits[chat.id]:
            with contextlib.suppress(TelegramError):
                await chat.send_action(ChatAction.TYPING)
            message_id = f"telegram-update-{update.update_id}"
            # What must leave before Rasa answers is stored at once, ahead of the update's other
            # replies; the key keeps a redelivered update from sending it twice.
            send_now = functools.partial(self.sending.deliver, chat.id, key=f"{message_id}:first")
            replies = await self.conversation.respond(
                sender_id(update),
                message,
                language(update),
                chat.type,
                message_id=message_id,
                redelivered=context.turn.redelivered,
                send_now=send_now,
            )
            await self._answer(context, chat.id, replies)

    async def _answer(self, context: TurnContext, chat_id: int, replies: Sequence[Reply]) -> None:
        """Add replies to the turn: they are stored when its update is marked done."""
        context.turn.replies.extend(await self.sending.messages_for(chat_id, replies))

    def _spoken(self, update: Update) -> str:
        """The conversation's language: as Rasa last reported it, else the patient's app's."""
        known = self.conversation.languages.get(sender_id(update))
        return known or self.conversation.content.language_or_default(language(update))

    async def _notice(self, update: Update, context: TurnContext, key: str) -> None:
        """Answer with a message from content, without asking Rasa."""
        assert update.effective_chat is not None
        notice = self.conversation.notice(key, language(update))
        await self._answer(context, update.effective_chat.id, [notice])

    async def on_command(self, update: Update, context: TurnContext) -> None:
        """Pass a command to the conversation as the intent it stands for."""
        assert update.effective_message is not None and update.effective_message.text
        command = update.effective_message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self.converse(update, context, COMMANDS[command])

    async def on_group(self, update: Update, context: TurnContext) -> None:
        """In a group, ask for a private chat: health questions are not for an audience."""
        await self._notice(update, context, "group_chat")

    async def on_button(self, update: Update, context: TurnContext) -> None:
        """Answer the button tap, then pass its payload to the conversation."""
        query = update.callback_query
        assert query is not None
        with contextlib.suppress(TelegramError):  # too old after an outage: tapped all the same
            await query.answer()
        if update.effective_chat is None or update.effective_chat.type != "private":
            return
        payload = await self.payloads.decode(query.data)
        if payload is None:
            await self._notice(update, context, "button_expired")
            return
        choice = LabelChoice.parse(payload)
        if choice is not None:
            await self.on_label(update, context, choice)
            return
        await self.converse(update, context, payload)

    async def on_label(self, update: Update, context: TurnContext, choice: LabelChoice) -> None:
        """Set the label the patient tapped for one of their files, and confirm it."""
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        replies = await self.records.relabel(chat_id, choice, self._spoken(update))
        await self._answer(context, chat_id, replies)

    async def on_record(self, update: Update, context: TurnContext) -> None:
        """Take a document or photo to the patient's request at reception, and say how it went."""
        assert update.effective_chat is not None and update.effective_message is not None
        chat = update.effective_chat
        sent = SentFile.of(update.effective_message)
        if sent is None:
            await self._notice(update, context, "unsupported_media")
            return
        async with self._chat_limits[chat.id]:
            with contextlib.suppress(TelegramError):
                await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
            replies = await self.records.receive(context.bot, chat.id, sent, self._spoken(update))
        await self._answer(context, chat.id, replies)

    async def on_text(self, update: Update, context: TurnContext) -> None:
        """Pass the patient's text to the conversation."""
        assert update.effective_message is not None
        await self.converse(update, context, update.effective_message.text or "")

    async def on_unknown_command(self, update: Update, context: TurnContext) -> None:
        """Answer a command the bot does not have with the list of those it has."""
        await self.converse(update, context, COMMANDS["help"])

    async def on_unsupported(self, update: Update, context: TurnContext) -> None:
        """Explain politely that this kind of message cannot be read (files and photos can)."""
        await self._notice(update, context, "unsupported_media")

    async def on_edited(self, update: Update, context: TurnContext) -> None:
        """Explain that a correction must be sent as a new message."""
        await self._notice(update, context, "edited_message")

    async def on_anything_else(self, update: Update, context: TurnContext) -> None:
        """Ignore, on purpose, updates no patient is waiting for an answer to."""
        logger.info("telegram update of a kind the bot does not answer ignored")

    async def on_error(self, update: object, context: TurnContext) -> None:
        """Log a handler's failure without the patient's text, and tell the patient."""
        logger.error("telegram handler failed: %s", type(context.error).__name__)
        if isinstance(update, Update) and update.effective_chat is not None:
            await self._notice(update, context, "service_unavailable")

    async def on_unreadable(self, data: dict[str, Any]) -> list[NewJob]:
        """Answer an update the library cannot read, if it comes from a private chat."""
        chat, user = origin_of(data)
        if chat is None or chat.get("type") != "private" or not isinstance(chat.get("id"), int):
            return []
        notice = self.conversation.notice("unsupported_media", (user or {}).get("language_code"))
        return await self.sending.messages_for(chat["id"], [notice])

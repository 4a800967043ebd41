"""Replies to Telegram chats, through the outbox: stored as messages, then sent in order per chat.

A reply becomes one message or more in Telegram's HTML, split under Telegram's length limit,
with its buttons (signed callback data) under the last piece, and without link previews when
the reply holds a link only the patient may open. Sending one waits out Telegram's
`RetryAfter` and outages, and gives up on a chat that refuses it for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.buttons import CallbackPayloads
from bot.rasa_client import Reply
from contentlib.markdown import to_telegram_html
from conversation_id import ConversationId
from outbox import GiveUp, Job, NewJob, Outbox, RetryLater

MESSAGES_QUEUE = "telegram_messages"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


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


def markup_of(keyboard: list[list[str]] | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a stored message: one button per row."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(title, callback_data=data)] for title, data in keyboard]
    )


@dataclass(frozen=True)
class Sending:
    """Turn replies into stored messages for a chat, and send stored messages to Telegram."""

    outbox: Outbox
    payloads: CallbackPayloads
    bot: Bot

    async def deliver(self, chat_id: int, replies: Sequence[Reply], key: str | None = None) -> None:
        """Store replies for a chat at once, to be sent in order after what it already has."""
        await self.outbox.put_many(await self.messages_for(chat_id, replies, key))

    async def messages_for(
        self, chat_id: int, replies: Sequence[Reply], key: str | None = None
    ) -> list[NewJob]:
        """The outbox jobs that send replies: HTML pieces, buttons on the last piece."""
        lane = str(ConversationId.telegram(chat_id))
        jobs: list[NewJob] = []
        for reply in replies:
            keyboard = await self.keyboard(reply, lane)
            pieces = chunks(to_telegram_html(reply.text)) or ["…"]
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                payload = {
                    "chat_id": chat_id,
                    "text": piece,
                    "keyboard": keyboard if last else None,
                    **({} if reply.link_previews else {"link_previews": False}),
                }
                job_key = f"{key}:{len(jobs)}" if key else None
                jobs.append(NewJob(MESSAGES_QUEUE, lane, payload, job_key))
        return jobs

    async def keyboard(self, reply: Reply, lane: str) -> list[list[str]] | None:
        """One button per row, as [title, callback data] pairs, or None without buttons."""
        if not reply.buttons:
            return None
        return [[b.title, await self.payloads.encode(b.payload, lane)] for b in reply.buttons]

    async def send(self, job: Job) -> None:
        """Send one stored message; wait out RetryAfter and outages, give up on refusals."""
        message = job.payload
        try:
            await self.bot.send_message(
                message["chat_id"],
                message["text"],
                parse_mode=ParseMode.HTML,
                reply_markup=markup_of(message.get("keyboard")),
                link_preview_options=None if message.get("link_previews", True) else NO_PREVIEW,
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

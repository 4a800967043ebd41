"""The records patients send on Telegram: each document or photo is downloaded with getFile and
attached to their request (bot.attachments, which the web chat shares).

Telegram lets bots download 20 MB at most, so a bigger file gets the upload link instead, sent
with link previews off so that Telegram's crawler never opens it. After a photo, the patient is
asked to send scans as files, which Telegram does not compress.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, Message
from telegram.error import BadRequest, TelegramError

from bot.attachments import Attachments, LabelChoice
from bot.rasa_client import Reply
from conversation_id import ConversationId

# LabelChoice too: the handlers take the label taps they answer from here.
__all__ = ["LabelChoice", "Records", "SentFile"]

logger = logging.getLogger(__name__)

# The largest file the Bot API lets a bot download.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 60.0
PHOTO_HINT = ("records_photo_hint",)


@dataclass(frozen=True)
class SentFile:
    """A file in a patient's message: a document, or the largest size of a photo."""

    file_id: str
    file_unique_id: str  # the same for the same file, whoever sends it and however often
    file_size: int | None
    is_photo: bool

    @classmethod
    def of(cls, message: Message) -> SentFile | None:
        """The file a message carries, if any."""
        if message.document is not None:
            document = message.document
            return cls(
                document.file_id, document.file_unique_id, document.file_size, is_photo=False
            )
        if message.photo:
            largest = max(message.photo, key=lambda size: size.width * size.height)
            return cls(largest.file_id, largest.file_unique_id, largest.file_size, is_photo=True)
        return None


@dataclass(frozen=True)
class Records:
    """Fetch the files patients send on Telegram, and attach them to their request."""

    attachments: Attachments

    async def receive(self, bot: Bot, chat_id: int, sent: SentFile, language: str) -> list[Reply]:
        """Download a file and take it to the chat's request: a receipt, a link, or why not."""
        conversation = ConversationId.telegram(chat_id)
        if sent.file_size is not None and sent.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            return await self.attachments.offer_link(conversation, language)
        try:
            data = await self.download(bot, sent)
        except TelegramError as error:
            logger.warning("a file could not be downloaded from telegram: %s", error)
            return [self.attachments.say("records_not_received", language)]
        if data is None:
            return await self.attachments.offer_link(conversation, language)
        once = f"{conversation}:{sent.file_unique_id}"  # sent again, it adds nothing
        hint = PHOTO_HINT if sent.is_photo else ()
        return await self.attachments.take(conversation, data, once, language, then=hint)

    async def download(self, bot: Bot, sent: SentFile) -> bytes | None:
        """The file's bytes from Telegram, or None if Telegram says it is too big for bots."""
        try:
            file = await bot.get_file(sent.file_id)
        except BadRequest as error:
            if "too big" in error.message.lower():
                return None
            raise
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_SECONDS))

    async def relabel(self, chat_id: int, choice: LabelChoice, language: str) -> list[Reply]:
        """Set the label the patient tapped for one of their files, and confirm it."""
        return await self.attachments.relabel(ConversationId.telegram(chat_id), choice, language)

"""The records patients send on Telegram: each document or photo is taken to their request at
reception, and the patient is told how it went, in words from content.

A file Telegram lets the bot download (20 MB at most) is fetched with getFile and posted to
reception, which checks its type, scans it and guesses its label; the patient confirms the label
or picks another with a button, which the bot answers itself (a `LabelChoice`, never sent to
Rasa). A bigger file gets a link to the upload page instead, sent with link previews off so that
Telegram's crawler never opens it. Whatever goes wrong, the patient still has the file and is
told what to do with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from telegram import Bot, Message
from telegram.error import BadRequest, TelegramError

from bot.rasa_client import Button, Reply
from bot.reception_client import (
    Attachment,
    ReceptionClient,
    ReceptionRefused,
    ReceptionUnavailable,
)
from contentlib import ContentStore

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
# The checklist's records (content/<lang>/records.yml), then what fits none of them.
LABELS = ("reports", "imaging", "pathology", "blood", "other")
# The largest file the Bot API lets a bot download.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 60.0
UPLOAD_PAGE_PATH = "/records"
# Reception's refusals, and what the patient is told of each (a 413 gets the upload link).
REFUSALS = {
    "no_open_request": "records_no_request",
    "unsupported_type": "records_unsupported_type",
    "unsafe_archive": "records_unsafe_archive",
    "damaged_file": "records_damaged_file",
}


@dataclass(frozen=True)
class LabelChoice:
    """A label button's payload: which kind of record the patient says a file is."""

    PREFIX: ClassVar[str] = "label:"

    attachment_id: str
    label: str

    @property
    def payload(self) -> str:
        """The button's payload (Rasa's payloads start with "/", never with this prefix)."""
        return f"{self.PREFIX}{self.attachment_id}:{self.label}"

    @classmethod
    def parse(cls, payload: str) -> LabelChoice | None:
        """The choice a payload carries, or None if it is not a label button's."""
        if not payload.startswith(cls.PREFIX):
            return None
        attachment_id, _, label = payload.removeprefix(cls.PREFIX).rpartition(":")
        return cls(attachment_id, label) if attachment_id and label in LABELS else None


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
    """Take the files patients send to their request at reception, and answer them."""

    reception: ReceptionClient
    content: ContentStore
    uploads_url: str

    async def receive(self, bot: Bot, chat_id: int, sent: SentFile, language: str) -> list[Reply]:
        """Attach a file to the chat's request and answer: a receipt, a link, or why not."""
        address = str(chat_id)
        if sent.file_size is not None and sent.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            return await self.offer_link(address, language)
        try:
            data = await self.download(bot, sent)
            if data is None:
                return await self.offer_link(address, language)
            key = f"{CHANNEL}:{address}:{sent.file_unique_id}"  # a redelivered update adds nothing
            attachment = await self.reception.attach(CHANNEL, address, data, key)
        except ReceptionRefused as refusal:
            logger.info("reception refused a file from telegram: %s", refusal.code)
            if refusal.status == 413:
                return await self.offer_link(address, language)
            key = REFUSALS.get(refusal.code)
            return [self.say(key, language) if key else self.say("records_not_received", language)]
        except (ReceptionUnavailable, TelegramError) as error:
            logger.warning("a file from telegram could not be received: %s", error)
            return [self.say("records_not_received", language)]
        language = attachment.language or language
        if attachment.scan == "infected":
            return [self.say("records_set_aside", language)]
        replies = [self.receipt(attachment, language)]
        if sent.is_photo:
            replies.append(self.say("records_photo_hint", language))
        return replies

    async def download(self, bot: Bot, sent: SentFile) -> bytes | None:
        """The file's bytes from Telegram, or None if Telegram says it is too big for bots."""
        try:
            file = await bot.get_file(sent.file_id)
        except BadRequest as error:
            if "too big" in error.message.lower():
                return None
            raise
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_SECONDS))

    async def offer_link(self, address: str, language: str) -> list[Reply]:
        """The upload page's link for the chat's request, for a file too big to pass here."""
        try:
            link = await self.reception.upload_link(CHANNEL, address)
        except ReceptionRefused as refusal:
            key = "records_no_request" if refusal.code == "no_open_request" else None
            return [self.say(key or "records_not_received", language)]
        except ReceptionUnavailable as error:
            logger.warning("no upload link for a telegram chat: %s", error)
            return [self.say("records_not_received", language)]
        url = f"{self.uploads_url}{UPLOAD_PAGE_PATH}/{link.token}"
        text = self.content.text("records_upload_link", link.language or language, link=url)
        return [Reply(text=text, link_previews=False)]

    async def relabel(self, chat_id: int, choice: LabelChoice, language: str) -> list[Reply]:
        """Set the label the patient chose for a file, and confirm it."""
        try:
            attachment = await self.reception.relabel(
                CHANNEL, str(chat_id), choice.attachment_id, choice.label
            )
        except ReceptionRefused as refusal:
            logger.info("reception refused a label from telegram: %s", refusal.code)
            return [self.say("records_label_gone", language)]
        except ReceptionUnavailable as error:
            logger.warning("a label from telegram could not be set: %s", error)
            return [self.say("records_label_not_set", language)]
        name = self.label_name(attachment.label, language)
        return [Reply(text=self.content.text("records_label_set", language, label=name))]

    def receipt(self, attachment: Attachment, language: str) -> Reply:
        """Say the file was received, with its label, and buttons to confirm or change it."""
        name = self.label_name(attachment.label, language)
        if attachment.label_guessed:
            text = self.content.text("records_received_guess", language, label=name)
        else:
            text = self.content.text("records_received", language, label=name)
        confirm = Button(
            self.content.text("records_label_confirm", language),
            LabelChoice(attachment.id, attachment.label).payload,
        )
        others = tuple(
            Button(self.label_name(label, language), LabelChoice(attachment.id, label).payload)
            for label in LABELS
            if label != attachment.label
        )
        return Reply(text=text, buttons=(confirm, *others))

    def label_name(self, label: str, language: str) -> str:
        """What a label is called in the patient's language."""
        if label in LABELS and label != "other":
            return str(self.content.text(f"records.{label}.name", language))
        return str(self.content.text("records_label_other", language))

    def say(self, key: str, language: str) -> Reply:
        """A message from content."""
        return Reply(text=self.content.text(key, language))

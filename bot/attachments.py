"""The files patients send, on any channel: each one is attached to their request at reception,
and the patient is told how it went, in words from content.

A channel hands over the file's bytes (Telegram once it has downloaded them, bot.records; the
web chat as its page posts them, bot.webchat_records). Reception checks the file's type, scans
it and guesses its label; the patient confirms the label or picks another with a button, which
the bot answers itself (a `LabelChoice`, never sent to Rasa). A file too big for the channel
gets a link to the upload page instead. Whatever goes wrong, the patient still has the file and
is told what to do with it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from bot.rasa_client import Button, Reply
from bot.reception_client import (
    Attachment,
    ReceptionClient,
    ReceptionRefused,
    ReceptionUnavailable,
)
from contentlib import ContentStore, Markdown
from contentlib.markdown import escape
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

# The checklist's records (content/<lang>/records.yml), then what fits none of them.
LABELS = ("reports", "imaging", "pathology", "blood", "other")
UPLOAD_PAGE_PATH = "/records"
# Reception's attachment ids: no spaces, so no sentence a patient types looks like a label tap.
ATTACHMENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
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
        if not ATTACHMENT_ID.match(attachment_id) or label not in LABELS:
            return None
        return cls(attachment_id, label)


@dataclass(frozen=True)
class Attachments:
    """Attach the files patients send to their request at reception, and answer them.

    `instead` gives a channel its own words for some messages (content key → the key to say
    instead); `linked` writes the upload page's address as a link, for a channel that does not
    make bare addresses clickable itself.
    """

    reception: ReceptionClient
    content: ContentStore
    uploads_url: str
    instead: Mapping[str, str] = field(default_factory=dict)
    linked: bool = False

    async def take(
        self,
        conversation: ConversationId,
        data: bytes,
        once: str,
        language: str,
        then: Sequence[str] = (),
    ) -> list[Reply]:
        """Attach a file to the conversation's request and answer: a receipt, a link, or why not.

        `once` names the file: sent again under the same key, it is kept once. The messages
        `then` names follow a receipt.
        """
        channel, address = conversation.channel.value, conversation.address
        try:
            attachment = await self.reception.attach(channel, address, data, once)
        except ReceptionRefused as refusal:
            logger.info("reception refused a file from %s: %s", channel, refusal.code)
            if refusal.status == 413:
                return await self.offer_link(conversation, language)
            return [self.say(REFUSALS.get(refusal.code, "records_not_received"), language)]
        except ReceptionUnavailable as error:
            logger.warning("a file from %s could not be received: %s", channel, error)
            return [self.say("records_not_received", language)]
        language = attachment.language or language
        if attachment.scan == "infected":
            return [self.say("records_set_aside", language)]
        return [self.receipt(attachment, language), *(self.say(key, language) for key in then)]

    async def offer_link(self, conversation: ConversationId, language: str) -> list[Reply]:
        """The upload page's link for the conversation's request, for a file too big to pass."""
        channel, address = conversation.channel.value, conversation.address
        try:
            link = await self.reception.upload_link(channel, address)
        except ReceptionRefused as refusal:
            key = "records_no_request" if refusal.code == "no_open_request" else None
            return [self.say(key or "records_not_received", language)]
        except ReceptionUnavailable as error:
            logger.warning("no upload link for a %s conversation: %s", channel, error)
            return [self.say("records_not_received", language)]
        url = f"{self.uploads_url}{UPLOAD_PAGE_PATH}/{link.token}"
        shown = Markdown(f"[{escape(url)}]({url})") if self.linked else url
        text = self.content.text("records_upload_link", link.language or language, link=shown)
        return [Reply(text=text, link_previews=False)]

    async def relabel(
        self, conversation: ConversationId, choice: LabelChoice, language: str
    ) -> list[Reply]:
        """Set the label the patient chose for a file, and confirm it."""
        channel, address = conversation.channel.value, conversation.address
        try:
            attachment = await self.reception.relabel(
                channel, address, choice.attachment_id, choice.label
            )
        except ReceptionRefused as refusal:
            logger.info("reception refused a label from %s: %s", channel, refusal.code)
            return [self.say("records_label_gone", language)]
        except ReceptionUnavailable as error:
            logger.warning("a label from %s could not be set: %s", channel, error)
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
        """A message from content, in the channel's own words where it has them."""
        return Reply(text=self.content.text(self.instead.get(key, key), language))

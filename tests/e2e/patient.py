"""A simulated patient on Telegram: types, taps buttons, and reads what the bot sent."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentlib import ContentStore
from contentlib.markdown import to_telegram_html
from conversation_id import ConversationId
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.stored import outbox_rows

REPLY_TIMEOUT = 60
BUSY_POLL_SECONDS = 0.02


@dataclass
class Patient:
    """One Telegram chat with the bot, whose outbox (`bot_database`) tells when a turn is over."""

    telegram: TelegramEmulator
    content: ContentStore
    chat_id: int
    bot_database: Path
    language: str = "en"
    last: list[dict[str, Any]] | None = None

    def says(self, text: str) -> list[dict[str, Any]]:
        """Type a message and return the bot's replies."""
        mark = self.telegram.mark(self.chat_id)
        self.telegram.send_text(self.chat_id, text, language_code=self.language)
        self.last = self.replies(after=mark)
        return self.last

    def sends_document(self, data: bytes, file_name: str, mime_type: str) -> list[dict[str, Any]]:
        """Send a file "as a file" and return the bot's replies."""
        mark = self.telegram.mark(self.chat_id)
        self.telegram.send_document(
            self.chat_id, data, file_name, mime_type, language_code=self.language
        )
        self.last = self.replies(after=mark)
        return self.last

    def sends_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Send a photo (which Telegram compresses) and return the bot's replies."""
        mark = self.telegram.mark(self.chat_id)
        self.telegram.send_photo(self.chat_id, data, language_code=self.language)
        self.last = self.replies(after=mark)
        return self.last

    def replies(self, after: int) -> list[dict[str, Any]]:
        """The bot's whole answer to a turn: wait for its first message, then until the bot has
        nothing left to do for this chat (the update and every reply done), however slow the
        machine is.
        """
        self.telegram.wait_for(None, self.chat_id, after=after, timeout=REPLY_TIMEOUT)
        deadline = time.monotonic() + REPLY_TIMEOUT
        lane = str(ConversationId.telegram(self.chat_id))
        while busy := [r for r in outbox_rows(self.bot_database, lane) if r["done_at"] is None]:
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot still has {len(busy)} job(s) for chat {lane}")
            time.sleep(BUSY_POLL_SECONDS)
        return self.telegram.sent(self.chat_id, after=after)

    def taps(self, title: str) -> list[dict[str, Any]]:
        """Tap the button with this title on the latest message that has it."""
        for message in reversed(self.telegram.sent(self.chat_id)):
            data = dict(self.telegram.buttons(message)).get(title)
            if data is not None:
                break
        else:
            raise AssertionError(f"no button {title!r}; last replies: {self.texts()}")
        mark = self.telegram.mark(self.chat_id)
        self.telegram.tap_button(self.chat_id, data, message_id=message["message_id"])
        self.last = self.replies(after=mark)
        return self.last

    def taps_key(self, key: str) -> list[dict[str, Any]]:
        """Tap the button whose title is the content `key`."""
        return self.taps(self.content.text(key, self.language))

    def texts(self) -> list[str]:
        """The texts of the latest replies."""
        return [message["text"] for message in self.last or []]

    def buttons(self) -> list[str]:
        """The button titles of the latest reply."""
        return [title for title, _ in self.telegram.buttons((self.last or [{}])[-1])]

    def seen(self, key: str, **variables: Any) -> str:
        """What the patient sees on Telegram for a content key."""
        return to_telegram_html(self.content.text(key, self.language, **variables))

    def answer(self, topic: str) -> str:
        """What the patient sees for an FAQ topic."""
        return to_telegram_html(self.content.answer(topic, self.language))

    def consents(self) -> None:
        """Say hello and agree to the privacy notice."""
        self.says("Hello")
        self.taps_key("consent.agree")
        assert self.texts() == [self.seen("consent_recorded"), self.seen("menu_prompt")]

    def fills_request(
        self,
        name: str = "Marie Dupont",
        phone: str = "0470 12 34 56",
        email: str = "marie.dupont@example.be",
        cancer: str = "there's a lump in my breast",
    ) -> None:
        """Consent, then answer every question of the request up to its summary."""
        self.consents()
        self.taps_key("menu.start")
        self.says(cancer)
        self.taps_key("care_stages.just_diagnosed")
        self.taps_key("residences.belgium")
        for _ in range(4):
            self.taps_key("record_states.have")
        assert self.texts() == [self.seen("ask_contact_name")], self.texts()
        self.says(name)
        self.says(phone)
        self.says(email)
        self.says("weekday mornings")
        assert name in self.texts()[0], self.texts()

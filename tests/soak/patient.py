"""A simulated patient for the soak tests: waits for what it expects, not for silence.

Under load, and while processes are stopped and killed, a reply can arrive in pieces or late.
This patient therefore waits, after each step, until the message or the button it expects has
arrived, and records everything it was sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contentlib import ContentStore
from contentlib.markdown import to_telegram_html
from harness.telegram_emulator import TelegramEmulator

STEP_TIMEOUT = 300

Message = dict[str, Any]


@dataclass
class SoakPatient:
    """One Telegram chat going through the whole request."""

    telegram: TelegramEmulator
    content: ContentStore
    chat_id: int
    name: str
    phone: str
    confirmation: str | None = None
    steps: list[str] = field(default_factory=list)

    def seen(self, key: str, **variables: Any) -> str:
        """What the patient sees on Telegram for a content key."""
        return to_telegram_html(self.content.text(key, "en", **variables))

    def title(self, key: str) -> str:
        """A button's title."""
        return self.content.text(key, "en")

    def _wait(self, after: int, what: str, found: Callable[[list[Message]], bool]) -> None:
        """Wait until the messages sent after a mark satisfy a condition."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while not found(self.telegram.sent(self.chat_id, after=after)):
            if time.monotonic() > deadline:
                texts = [m["text"] for m in self.telegram.sent(self.chat_id, after=after)]
                raise AssertionError(f"chat {self.chat_id}: no {what} in {texts}")
            time.sleep(0.2)
        self.steps.append(what)

    def _text(self, key: str, **variables: Any) -> Callable[[list[Message]], bool]:
        """A condition: a message with this content has arrived."""
        expected = self.seen(key, **variables)
        return lambda messages: any(m["text"] == expected for m in messages)

    def _button(self, key: str) -> Callable[[list[Message]], bool]:
        """A condition: a message with this button has arrived."""
        title = self.title(key)
        return lambda messages: any(title in dict(self.telegram.buttons(m)) for m in messages)

    def says(self, text: str, then: Callable[[list[Message]], bool], what: str) -> None:
        """Type a message, then wait for what should follow."""
        mark = self.telegram.mark()
        self.telegram.send_text(self.chat_id, text, language_code="en")
        self._wait(mark, what, then)

    def taps(self, key: str, then: Callable[[list[Message]], bool], what: str) -> None:
        """Tap the newest button with this title, then wait for what should follow."""
        title = self.title(key)
        for message in reversed(self.telegram.sent(self.chat_id)):
            data = dict(self.telegram.buttons(message)).get(title)
            if data is not None:
                break
        else:
            raise AssertionError(f"chat {self.chat_id}: no button {title!r}")
        mark = self.telegram.mark()
        self.telegram.tap_button(self.chat_id, data, message_id=message["message_id"])
        self._wait(mark, what, then)

    def requests_a_second_opinion(self) -> None:
        """The whole journey, from hello to the handoff's confirmation."""
        self.says("Hello", self._button("consent.agree"), "consent question")
        self.taps("consent.agree", self._button("menu.start"), "menu")
        self.taps("menu.start", self._text("ask_cancer_type"), "cancer type question")
        self.says("breast cancer", self._text("ask_care_stage"), "care stage question")
        self.taps("care_stages.in_treatment", self._text("ask_residence"), "residence question")
        self.taps("residences.belgium", self._button("record_states.have"), "first record")
        for index in range(3):
            self.taps("record_states.have", self._button("record_states.have"), f"record {index}")
        self.taps("record_states.have", self._text("ask_contact_name"), "name question")
        self.says(self.name, self._text("ask_phone"), "phone question")
        self.says(self.phone, self._text("ask_email"), "e-mail question")
        self.taps("email_skip", self._text("ask_preferred_time"), "time question")
        self.says("mornings", self._button("confirm.send"), "summary")
        done = self.seen("handoff_done", reference="X", department="Y").split("X")[0]
        saved = self.seen("handoff_saved")
        mark = self.telegram.mark()
        self.taps(
            "confirm.send",
            lambda messages: any(
                m["text"].startswith(done) or m["text"] == saved for m in messages
            ),
            "confirmation",
        )
        [confirmation] = [
            m["text"]
            for m in self.telegram.sent(self.chat_id, after=mark)
            if m["text"].startswith(done) or m["text"] == saved
        ]
        self.confirmation = confirmation

    @property
    def was_saved(self) -> bool:
        """Whether reception was down when the request was sent."""
        return self.confirmation == self.seen("handoff_saved")

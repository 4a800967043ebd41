"""What every channel does with a patient's message: safety first, then Rasa, never silence."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.language import LanguageDetector
from bot.rasa_client import Answer, Button, RasaClient, RasaUnavailable, Reply
from bot.safety import Danger, SafetyFilter
from contentlib import ContentStore
from conversation_id import channel_of

logger = logging.getLogger(__name__)

RESTART = "/restart"
GREET = "/greet"
EMERGENCY_KEYS = {Danger.MEDICAL: "emergency_medical", Danger.DISTRESS: "emergency_distress"}
REMEMBERED_CONVERSATIONS = 10_000

# Forget what the bot itself keeps of a conversation (its outbox), given its sender id.
Forget = Callable[[str], Awaitable[None]]
# Send replies to the patient at once, before the rest of the answer is ready.
SendNow = Callable[[list[Reply]], Awaitable[None]]


async def _forget_nothing(sender_id: str) -> None:
    """Keep nothing to forget (a bot without an outbox, in tests)."""


class Languages:
    """Each conversation's language as Rasa last reported it, and the switches already offered.

    Held in memory for the most recent conversations only: after a restart the channel's
    language serves until Rasa's next answer says which one the patient chose.
    """

    def __init__(self, size: int = REMEMBERED_CONVERSATIONS) -> None:
        """Start with no conversation known."""
        self.size = size
        self._known: OrderedDict[str, tuple[str, set[str]]] = OrderedDict()

    def get(self, sender_id: str) -> str | None:
        """The conversation's language, if Rasa reported one."""
        known = self._known.get(sender_id)
        return known[0] if known else None

    def set(self, sender_id: str, language: str) -> None:
        """Remember the conversation's language, keeping the switches already offered."""
        offered = self._known.pop(sender_id, ("", set()))[1]
        self._known[sender_id] = (language, offered)
        while len(self._known) > self.size:
            self._known.popitem(last=False)

    def first_offer(self, sender_id: str, language: str) -> bool:
        """Tell whether a switch to `language` was not offered yet, and note that it now is."""
        offered = self._known.setdefault(sender_id, ("", set()))[1]
        if language in offered:
            return False
        offered.add(language)
        return True

    def forget(self, sender_id: str) -> None:
        """Forget a conversation (its patient erased their data)."""
        self._known.pop(sender_id, None)


@dataclass(frozen=True)
class Conversation:
    """The channel-independent path from a patient's message to the assistant's replies."""

    rasa: RasaClient
    content: ContentStore
    safety: SafetyFilter
    forget: Forget = _forget_nothing
    detector: LanguageDetector | None = None
    languages: Languages = field(default_factory=Languages)

    async def respond(
        self,
        sender_id: str,
        message: str,
        language: str | None,
        chat_type: str = "private",
        message_id: str | None = None,
        redelivered: bool = False,
        send_now: SendNow | None = None,
    ) -> list[Reply]:
        """Return the assistant's replies: emergency help first, then Rasa's answer.

        Emergency words get the emergency numbers and nothing else; a message that only
        sounds like danger gets them before Rasa's answer, so a false alarm costs a sentence.
        A channel that can send at once passes `send_now`: the numbers then leave before Rasa
        is asked, and a slow or unreachable Rasa never holds them up. When the patient's data
        was just erased, the bot forgets its own copy of the conversation too, before the
        confirmation is sent.
        """
        spoken = self.languages.get(sender_id) or self.content.language_or_default(language)
        written = self.detector.detect(message) if self.detector else None
        danger = self.safety.check_words(message)
        if danger is not None:
            logger.info("emergency words in a %s conversation", channel_of(sender_id))
            return [
                *self.emergency(danger, spoken, written),
                self.notice("emergency_continue", spoken),
            ]
        alarm = await self.alarm(sender_id, message, spoken, written, send_now)
        metadata = {"chat_type": chat_type, **({"language": language} if language else {})}
        answer = await self.ask_rasa(sender_id, message, metadata, message_id, redelivered)
        if answer is None:
            return [*alarm, self.notice("service_unavailable", spoken)]
        if answer.language:
            self.languages.set(sender_id, answer.language)
            spoken = answer.language
        if answer.erase_conversation:
            await self.forget_conversation(sender_id)
        replies = [*alarm, *answer.replies]
        if not replies:
            logger.error("rasa gave no reply in a %s conversation", channel_of(sender_id))
            return [self.notice("service_unavailable", spoken)]
        return replies + self.switch_offer(sender_id, spoken, written)

    async def alarm(
        self,
        sender_id: str,
        message: str,
        spoken: str,
        written: str | None,
        send_now: SendNow | None,
    ) -> list[Reply]:
        """The emergency numbers for a message that sounds like danger, to go before Rasa's
        answer; sent at once instead when the channel can (then nothing is left to add).
        """
        sounds_like = await asyncio.to_thread(self.safety.check_meaning, message)
        if sounds_like is None:
            return []
        logger.info("a message sounding like danger in a %s conversation", channel_of(sender_id))
        alarm = self.emergency(sounds_like, spoken, written)
        if send_now is None:
            return alarm
        await send_now(alarm)
        return []

    async def ask_rasa(
        self,
        sender_id: str,
        message: str,
        metadata: dict[str, str],
        message_id: str | None,
        redelivered: bool,
    ) -> Answer | None:
        """Rasa's answer (after /restart, with its greeting), or None if Rasa cannot answer."""
        try:
            answer = await self.rasa.send(sender_id, message, metadata, message_id, redelivered)
            if message.strip() != RESTART:
                return answer
            greeting = await self.rasa.send(sender_id, GREET, metadata)
            return dataclasses.replace(answer, replies=[*answer.replies, *greeting.replies])
        except RasaUnavailable as error:
            logger.error("rasa unavailable for a %s conversation: %s", channel_of(sender_id), error)
            return None

    async def forget_conversation(self, sender_id: str) -> None:
        """Forget the bot's own copy of a conversation whose patient erased their data."""
        await self.forget(sender_id)
        self.languages.forget(sender_id)
        logger.info("a %s conversation was erased at the patient's request", channel_of(sender_id))

    def emergency(self, danger: Danger, spoken: str, written: str | None) -> list[Reply]:
        """The emergency numbers, in the language written in and in the conversation's."""
        languages = dict.fromkeys(lang for lang in (written, spoken) if lang)
        return [self.notice(EMERGENCY_KEYS[danger], lang) for lang in languages]

    def switch_offer(self, sender_id: str, spoken: str, written: str | None) -> list[Reply]:
        """Offer, once, to continue in the language the patient clearly writes in."""
        if not written or written == spoken or written not in self.content.languages:
            return []
        if not self.languages.first_offer(sender_id, written):
            return []
        buttons = (
            Button(self.content.text("language_switch_yes", written), _set_language(written)),
            Button(self.content.text("language_switch_keep", spoken), _set_language(spoken)),
        )
        return [Reply(text=self.content.text("language_switch_offer", written), buttons=buttons)]

    def notice(self, key: str, language: str | None) -> Reply:
        """A message from content, without asking Rasa."""
        return Reply(text=self.content.text(key, language))


def _set_language(language: str) -> str:
    """The payload of a button that sets the conversation's language."""
    return f'/set_language{{"language":"{language}"}}'

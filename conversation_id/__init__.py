"""One name for a conversation, everywhere: its channel and its address on that channel.

The same text names a conversation as Rasa's sender id, as the outbox lane of the bot and of
the action server, and on reception's ticket (as `channel` and `channel_address`):
"telegram:42" for a Telegram chat, "webchat:3f2a…" for a web chat session. This module is the
only code that builds or reads that text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SEPARATOR = ":"


class Channel(StrEnum):
    """The channel the patient wrote from."""

    TELEGRAM = "telegram"
    WEBCHAT = "webchat"


@dataclass(frozen=True)
class ConversationId:
    """A conversation: a channel and the address of the chat or session on it."""

    channel: Channel
    address: str

    def __post_init__(self) -> None:
        """Refuse an id that could not be read back."""
        if not self.address:
            raise ValueError("a conversation needs an address")

    def __str__(self) -> str:
        """The id as Rasa, the outboxes and the logs know it: "telegram:42"."""
        return f"{self.channel.value}{SEPARATOR}{self.address}"

    @classmethod
    def telegram(cls, chat_id: int | str) -> ConversationId:
        """A Telegram chat."""
        return cls(Channel.TELEGRAM, str(chat_id))

    @classmethod
    def webchat(cls, session_id: str) -> ConversationId:
        """A web chat session."""
        return cls(Channel.WEBCHAT, session_id)

    @classmethod
    def parse(cls, text: str) -> ConversationId:
        """Read an id such as "telegram:42"; ValueError if it names no known channel."""
        channel, _, address = text.partition(SEPARATOR)
        if channel not in {known.value for known in Channel}:
            raise ValueError(f"not a conversation id: {text[:40]!r}")
        return cls(Channel(channel), address)

    @classmethod
    def of_sender(cls, sender_id: str) -> ConversationId:
        """The conversation of a Rasa sender id; one in no known form is a web chat session."""
        try:
            return cls.parse(sender_id)
        except ValueError:
            return cls.webchat(sender_id)


def channel_of(text: str) -> str:
    """The channel part of an id, the only part of it fit for the logs."""
    return text.partition(SEPARATOR)[0]

"""A conversation's id is built and read in one place, the same way by every process."""

from __future__ import annotations

import pytest

from conversation_id import Channel, ConversationId, channel_of
from reception.schemas import TicketCreate


def test_an_id_reads_back_as_itself() -> None:
    for conversation in (
        ConversationId.telegram(42),
        ConversationId.telegram("user:7"),
        ConversationId.webchat("3f2a9c0d"),
    ):
        assert ConversationId.parse(str(conversation)) == conversation
    assert str(ConversationId.telegram(-100_123)) == "telegram:-100123"


@pytest.mark.parametrize("text", ["", "telegram", "telegram:", "sms:0470", "42"])
def test_an_id_in_no_known_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="conversation"):
        ConversationId.parse(text)


def test_a_sender_in_no_known_form_is_a_web_chat_session() -> None:
    assert ConversationId.of_sender("telegram:42") == ConversationId(Channel.TELEGRAM, "42")
    assert ConversationId.of_sender("webchat:abcdefgh") == ConversationId.webchat("abcdefgh")
    assert ConversationId.of_sender("abc") == ConversationId(Channel.WEBCHAT, "abc")


def test_the_logs_get_the_channel_only() -> None:
    assert channel_of("telegram:42") == "telegram"
    assert channel_of("webchat:3f2a9c0d") == "webchat"


def test_reception_takes_every_channel() -> None:
    """A ticket from any channel is accepted, with the address as the id holds it."""
    for channel in Channel:
        conversation = ConversationId(channel, "12345678")
        ticket = TicketCreate(
            kind="callback",
            language="en",
            contact={},
            channel=conversation.channel,
            channel_address=conversation.address,
        )
        assert (ticket.channel, ticket.channel_address) == (channel, "12345678")

"""Any text at all, through the safety filter and the Rasa client to the running Rasa (hypothesis):
the patient always gets an answer, and Rasa never fails on it.
"""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation import Conversation
from bot.rasa_client import RasaClient
from bot.safety import SafetyFilter
from contentlib import ContentStore
from conversation_id import ConversationId
from harness.stack import Stack

pytestmark = pytest.mark.e2e

_senders = itertools.count(1)
# What a chat can carry: any Unicode text, lone surrogates included (JSON allows them).
MESSAGES = st.text(min_size=1, max_size=500).filter(lambda text: text.strip())


async def answer(stack: Stack, content: ContentStore, safety: SafetyFilter, text: str) -> list:
    """The replies a new conversation gets for one message."""
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(RasaClient(stack.url("rasa"), session, 30), content, safety)
        return await conversation.respond(
            str(ConversationId.webchat(f"anytext-{next(_senders)}")), text, "en"
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=MESSAGES)
def test_any_text_gets_a_real_answer(
    stack: Stack, content: ContentStore, safety: SafetyFilter, text: str
) -> None:
    """Emoji, scripts, control characters, markup, surrogates: the replies are never the
    'temporarily unavailable' notice, which would mean Rasa failed on the message.
    """
    replies = asyncio.run(answer(stack, content, safety, text))
    unavailable = content.text("service_unavailable", "en")
    assert replies
    assert all(reply.text or reply.buttons for reply in replies)
    assert [reply.text for reply in replies] != [unavailable]

"""The bot's delivery endpoint, as the bot serves it and as reception and the action server call it.

`POST /api/v1/deliveries` asks the bot to send a message to a patient on their own channel. The
bot keeps it in its outbox until the channel takes it, and delivers an Idempotency-Key once, so
a caller that lost the answer asks again safely. Each caller keeps its own errors; what they
share lives here: the path, the body, and which refusals are worth another try.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from httpjson import Answer, JsonService

DELIVERIES_PATH = "/api/v1/deliveries"
# Refusals that may go away by themselves: a token being rotated, a bot still starting, "not now".
TRANSIENT_STATUSES = frozenset({401, 403, 404, 408, 425, 429})


# A delivered message offers at most this many buttons, each a Rasa payload such as /intent.
MAX_BUTTONS = 4
MAX_PAYLOAD_LENGTH = 200


@dataclass(frozen=True)
class DeliveryButton:
    """A choice under a delivered message: what it says, and what Rasa receives when tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class PatientMessage:
    """One message for the patient behind a ticket or a conversation."""

    channel: str
    address: str
    text: str
    reference: str
    language: str
    sender: Literal["staff", "assistant"]
    buttons: tuple[DeliveryButton, ...] = field(default_factory=tuple)


async def deliver(bot: JsonService, message: PatientMessage, idempotency_key: str) -> Answer:
    """Ask the bot to deliver a message; raises httpjson.Unreachable when it does not answer."""
    body = asdict(message)
    if not message.buttons:
        del body["buttons"]  # most messages have none; the bot reads no buttons as none
    return await bot.call(
        "POST", DELIVERIES_PATH, body=body, headers={"Idempotency-Key": idempotency_key}
    )


def refused_for_good(status: int) -> bool:
    """Tell whether the bot refused the message itself (a 4xx that another try cannot fix)."""
    return 400 <= status < 500 and status not in TRANSIENT_STATUSES

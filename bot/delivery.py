"""Messages for patients from outside a conversation: reception's staff, or the assistant.

Reception (a staff message) and the action server (news about a saved request) call
`POST /api/v1/deliveries` with the shared RECEPTION_API_TOKEN. The bot stores the message in
its outbox and answers 202 at once; Telegram gets it as soon as Telegram accepts it, and a web
chat page collects it with `GET /api/messages?session_id=…`. An `Idempotency-Key` header makes
a retried delivery harmless.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot import webchat
from bot.rasa_client import Button, Reply
from conversation_id import Channel, ConversationId
from deliveries import DELIVERIES_PATH, MAX_BUTTONS, MAX_PAYLOAD_LENGTH
from outbox import NewJob, Outbox

if TYPE_CHECKING:
    from bot.telegram_channel import TelegramChannel

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
WEBCHAT_QUEUE = "webchat_messages"
MAX_TEXT_LENGTH = 4000
MAX_KEY_LENGTH = 200
TELEGRAM_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")


class DeliveryButton(BaseModel):
    """A button under the message; tapping it sends its payload to Rasa as the patient's turn."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=2, max_length=MAX_PAYLOAD_LENGTH, pattern=r"^/[a-z_]+")


class Delivery(BaseModel):
    """What reception or the action server asks the bot to deliver."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    address: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    reference: str | None = Field(default=None, pattern=r"^SO-[0-9]{4}-[0-9]{5,}$")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    sender: Literal["staff", "assistant"] = "staff"
    buttons: list[DeliveryButton] = Field(default_factory=list, max_length=MAX_BUTTONS)

    @property
    def reply_buttons(self) -> tuple[Button, ...]:
        """The buttons as the channels send them."""
        return tuple(Button(title=b.title, payload=b.payload) for b in self.buttons)

    @model_validator(mode="after")
    def _staff_name_their_ticket(self) -> Delivery:
        """A staff message is introduced with the reference of the ticket it is about."""
        if self.sender == "staff" and self.reference is None:
            raise ValueError("reference: a staff message needs its ticket's reference")
        return self


outbox_key = web.AppKey("outbox", Outbox)


def failure(status: int, code: str, message: str) -> web.Response:
    """Return a JSON error reception can show to staff."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@dataclass(frozen=True)
class DeliveryRoutes:
    """The delivery endpoint and the web chat's poll, bound to the app's Telegram channel."""

    api_token: str
    telegram_key: web.AppKey[TelegramChannel]

    async def deliver(self, request: web.Request) -> web.Response:
        """Check the token and the body, then queue the message for its channel."""
        if not self._authorised(request):
            return failure(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and (len(key) > MAX_KEY_LENGTH or not key.isprintable()):
            return failure(400, "invalid_idempotency_key", "Idempotency-Key is too long.")
        delivery = await _read_delivery(request)
        if isinstance(delivery, web.Response):
            return delivery
        text = _with_header(request, delivery)
        if delivery.channel == Channel.TELEGRAM:
            return await self._to_telegram(request, delivery, text, key)
        return await _to_webchat(request, delivery, text, key)

    async def _to_telegram(
        self, request: web.Request, delivery: Delivery, text: str, key: str | None
    ) -> web.Response:
        """Queue the message for a Telegram chat."""
        channel = request.app.get(self.telegram_key)
        if channel is None:
            return failure(503, "telegram_off", "Telegram is not enabled on this bot.")
        if not TELEGRAM_CHAT_ID.match(delivery.address):
            return failure(422, "invalid_address", "A Telegram address must be a chat id.")
        await channel.deliver(
            int(delivery.address),
            [Reply(text=text, buttons=delivery.reply_buttons)],
            key=f"delivery:{key}" if key else None,
        )
        logger.info("queued a message for a patient on telegram")
        return web.json_response({"status": "queued"}, status=202)

    async def poll(self, request: web.Request) -> web.Response:
        """Hand a web chat page the messages waiting for its session."""
        session_id = request.query.get("session_id", "")
        if not webchat.SESSION_ID.match(session_id):
            return failure(
                422, "invalid_session", "session_id must be 8 to 64 letters, digits, '-' or '_'."
            )
        taken = await request.app[outbox_key].take(
            WEBCHAT_QUEUE, str(ConversationId.webchat(session_id))
        )
        return web.json_response({"messages": [job.payload for job in taken]})

    def _authorised(self, request: web.Request) -> bool:
        """Compare the bearer token with the shared one, in constant time."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.api_token.encode())


async def _read_delivery(request: web.Request) -> Delivery | web.Response:
    """Parse and check the body, or return the 4xx answer that explains what is wrong."""
    try:
        body: Any = await request.json()
    except ValueError:
        return failure(400, "invalid_json", "The body must be a JSON object.")
    if not isinstance(body, dict):
        return failure(400, "invalid_json", "The body must be a JSON object.")
    try:
        return Delivery.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(body)'}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        return failure(422, "invalid_delivery", f"Invalid delivery: {problems}.")


def _with_header(request: web.Request, delivery: Delivery) -> str:
    """Put the content's 'message from reception' line above a staff member's text."""
    if delivery.sender == "assistant":
        return delivery.text
    content = request.app[webchat.content_key]
    header = content.text("staff_message", delivery.language, reference=delivery.reference)
    return f"{header}\n\n{delivery.text}"


async def _to_webchat(
    request: web.Request, delivery: Delivery, text: str, key: str | None
) -> web.Response:
    """Keep the message until the patient's web chat page polls for it."""
    if not webchat.SESSION_ID.match(delivery.address):
        return failure(422, "invalid_address", "A web chat address must be a session id.")
    message = {
        "sender": delivery.sender,
        "text": text,
        "reference": delivery.reference,
        "at": datetime.now(UTC).isoformat(),
        "buttons": [button.model_dump() for button in delivery.buttons],
    }
    lane = str(ConversationId.webchat(delivery.address))
    await request.app[outbox_key].put_many(
        [NewJob(WEBCHAT_QUEUE, lane, message, f"delivery:{key}" if key else None)]
    )
    logger.info("queued a message for a web chat session")
    return web.json_response({"status": "queued"}, status=202)


def add_routes(
    app: web.Application, telegram_key: web.AppKey[TelegramChannel], api_token: str
) -> None:
    """Register the delivery endpoint and the web chat's poll for waiting messages."""
    routes = DeliveryRoutes(api_token=api_token, telegram_key=telegram_key)
    app.router.add_post(DELIVERIES_PATH, routes.deliver)
    app.router.add_get(MESSAGES_PATH, routes.poll)

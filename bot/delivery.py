"""Messages from reception to patients: sent on Telegram at once, or kept for the web chat page.

Reception calls `POST /api/v1/deliveries` with the shared RECEPTION_API_TOKEN. Web chat pages
collect their messages with `GET /api/messages?session_id=…`. The web chat outbox lives in
memory: a restart loses what was not collected yet (a durable outbox comes later).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from telegram.error import TelegramError

from bot import webchat
from bot.rasa_client import Reply
from bot.telegram_channel import TelegramChannel

logger = logging.getLogger(__name__)

DELIVERIES_PATH = "/api/v1/deliveries"
MESSAGES_PATH = "/api/messages"
MAX_TEXT_LENGTH = 4000
MAX_QUEUED_PER_SESSION = 50
MAX_SESSIONS = 10_000
TELEGRAM_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")


class Delivery(BaseModel):
    """What reception asks the bot to deliver."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Literal["telegram", "webchat"]
    address: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    reference: str = Field(pattern=r"^SO-[0-9]{4}-[0-9]{5,}$")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")


@dataclass
class WebchatOutbox:
    """Staff messages waiting for a web chat page to collect them, per session, in memory."""

    queues: OrderedDict[str, deque[dict[str, str]]] = field(default_factory=OrderedDict)

    def put(self, session_id: str, message: dict[str, str]) -> None:
        """Queue a message for a session, forgetting the oldest sessions beyond the limit."""
        queue = self.queues.setdefault(session_id, deque(maxlen=MAX_QUEUED_PER_SESSION))
        queue.append(message)
        self.queues.move_to_end(session_id)
        while len(self.queues) > MAX_SESSIONS:
            self.queues.popitem(last=False)

    def take(self, session_id: str) -> list[dict[str, str]]:
        """Return and forget a session's waiting messages."""
        return list(self.queues.pop(session_id, ()))


outbox_key = web.AppKey("webchat_outbox", WebchatOutbox)


def failure(status: int, code: str, message: str) -> web.Response:
    """Return a JSON error reception can show to staff."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@dataclass(frozen=True)
class DeliveryRoutes:
    """The delivery endpoint and the web chat's poll, bound to the app's Telegram channel."""

    api_token: str | None
    telegram_key: web.AppKey[TelegramChannel]

    async def deliver(self, request: web.Request) -> web.Response:
        """Check the token and the body, then deliver to Telegram or queue for the web chat."""
        if not self._authorised(request):
            return failure(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
        delivery = await _read_delivery(request)
        if isinstance(delivery, web.Response):
            return delivery
        text = _with_header(request, delivery)
        if delivery.channel == "telegram":
            return await self._to_telegram(request, delivery.address, text)
        return _to_webchat(request, delivery, text)

    async def _to_telegram(self, request: web.Request, address: str, text: str) -> web.Response:
        """Send the message to a Telegram chat now."""
        channel = request.app.get(self.telegram_key)
        if channel is None:
            return failure(503, "telegram_off", "Telegram is not enabled on this bot.")
        if not TELEGRAM_CHAT_ID.match(address):
            return failure(422, "invalid_address", "A Telegram address must be a chat id.")
        try:
            await channel.deliver(int(address), [Reply(text=text)])
        except TelegramError as error:
            logger.warning("telegram refused a staff message: %s", error.__class__.__name__)
            return failure(
                502, "telegram_failed", f"Telegram did not accept it ({error.__class__.__name__})."
            )
        logger.info("delivered a staff message on telegram")
        return web.json_response({"status": "delivered"})

    async def poll(self, request: web.Request) -> web.Response:
        """Hand a web chat page the staff messages waiting for its session."""
        session_id = request.query.get("session_id", "")
        if not webchat.SESSION_ID.match(session_id):
            return failure(
                422, "invalid_session", "session_id must be 8 to 64 letters, digits, '-' or '_'."
            )
        return web.json_response({"messages": request.app[outbox_key].take(session_id)})

    def _authorised(self, request: web.Request) -> bool:
        """Compare the bearer token with the shared one, in constant time."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not self.api_token or scheme.lower() != "bearer":
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
    """Put the content's 'message from reception' line above the staff's text."""
    content = request.app[webchat.content_key]
    header = content.text("staff_message", delivery.language, reference=delivery.reference)
    return f"{header}\n\n{delivery.text}"


def _to_webchat(request: web.Request, delivery: Delivery, text: str) -> web.Response:
    """Queue the message until the patient's web chat page polls for it."""
    if not webchat.SESSION_ID.match(delivery.address):
        return failure(422, "invalid_address", "A web chat address must be a session id.")
    message = {
        "sender": "staff",
        "text": text,
        "reference": delivery.reference,
        "at": datetime.now(UTC).isoformat(),
    }
    request.app[outbox_key].put(delivery.address, message)
    logger.info("queued a staff message for a web chat session")
    return web.json_response({"status": "queued"}, status=202)


def add_routes(
    app: web.Application, telegram_key: web.AppKey[TelegramChannel], api_token: str | None
) -> None:
    """Register the delivery endpoint and the web chat's poll for staff messages."""
    if not api_token:
        logger.warning("RECEPTION_API_TOKEN is not set: reception cannot message patients")
    routes = DeliveryRoutes(api_token=api_token, telegram_key=telegram_key)
    app[outbox_key] = WebchatOutbox()
    app.router.add_post(DELIVERIES_PATH, routes.deliver)
    app.router.add_get(MESSAGES_PATH, routes.poll)

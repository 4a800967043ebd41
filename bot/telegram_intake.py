"""How Telegram updates reach the bot: long polling, or a webhook checked by its secret.

Either way an update is stored in the outbox before Telegram is told it arrived (the next
poll's offset, or the webhook's 200), so an update is never lost between the two, and its
update_id makes a second delivery of it harmless. It is stored as Telegram sent it, on its
chat's lane, and parsed only when it is processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.delivery import failure
from bot.telegram_sending import seconds
from conversation_id import ConversationId
from outbox import Backoff, Outbox

if TYPE_CHECKING:
    from bot.telegram_channel import TelegramChannel

logger = logging.getLogger(__name__)

UPDATES_QUEUE = "telegram_updates"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
READ_MARGIN = 10  # seconds a long poll may take beyond its timeout


def origin_of(data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The chat and the sender of an update as Telegram sent it, read without parsing it
    (so that even an update the library cannot read has its chat); either may be missing.
    """
    for value in data.values():
        if not isinstance(value, dict):
            continue
        message = value.get("message")
        chat = value.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        user = value.get("from") or value.get("user")
        return (chat if isinstance(chat, dict) else None, user if isinstance(user, dict) else None)
    return None, None


def lane_of_update(data: dict[str, Any]) -> str:
    """The chat an update belongs to (updates without a chat share their sender's lane)."""
    chat, user = origin_of(data)
    if chat is not None and "id" in chat:
        return str(ConversationId.telegram(chat["id"]))
    if user is not None and "id" in user:
        return str(ConversationId.telegram(f"user:{user['id']}"))
    return str(ConversationId.telegram("other"))


async def store_update(outbox: Outbox, data: dict[str, Any]) -> bool:
    """Store one update as Telegram sent it; False if it was stored before (a duplicate)."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("an update needs an integer update_id")
    _, new = await outbox.put_new(UPDATES_QUEUE, lane_of_update(data), data, key=str(update_id))
    if not new:
        logger.info("duplicate telegram update dropped")
    return new


@dataclass
class Polling:
    """Fetch updates with getUpdates, store them, and only then move the offset past them."""

    channel: TelegramChannel
    timeout_seconds: int
    backoff: Backoff = field(default_factory=lambda: Backoff(base_seconds=1, cap_seconds=30))
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Leave webhook mode if it was on (pending updates stay) and start polling."""
        await self.channel.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="telegram-polling")
        logger.info("telegram polling started")

    async def stop(self) -> None:
        """Stop polling; updates fetched but not acknowledged are fetched again next time."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _fetch(self, offset: int | None) -> list[dict[str, Any]]:
        """One long poll, as the raw JSON Telegram sent: stored as it is, parsed only later.

        Bot.get_updates would parse the updates here, and an update it cannot read would
        stop polling for good (and be logged whole). Bot API method names are
        case-insensitive; the lower-case name is what lets do_api_request call it directly.
        """
        kwargs: dict[str, Any] = {
            "timeout": self.timeout_seconds,
            "allowed_updates": list(Update.ALL_TYPES),
        }
        if offset is not None:
            kwargs["offset"] = offset
        result = await self.channel.bot.do_api_request(
            "getupdates", api_kwargs=kwargs, read_timeout=self.timeout_seconds + READ_MARGIN
        )
        if not isinstance(result, list):
            raise TypeError("getUpdates answered something other than a list")
        return [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]

    async def _run(self) -> None:
        """Poll until stopped, backing off while Telegram cannot be reached."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self._fetch(offset)
                for update in updates:
                    await self.channel.receive(update)
                if updates:
                    offset = max(update["update_id"] for update in updates) + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except RetryAfter as error:
                await asyncio.sleep(seconds(error.retry_after))
            except InvalidToken:
                logger.error("telegram refuses the bot token; polling stops")
                return
            except Exception as error:
                failures += 1
                level = logging.WARNING if isinstance(error, TelegramError) else logging.ERROR
                if isinstance(error, Conflict):
                    level = logging.ERROR  # another process polls with the same token
                logger.log(level, "telegram polling failed: %s", type(error).__name__)
                await asyncio.sleep(self.backoff.delay(failures))


@dataclass(frozen=True)
class Webhook:
    """Receive updates that Telegram posts, once it proves it is Telegram with the secret."""

    channel_key: web.AppKey[TelegramChannel]
    secret: str

    async def register(self, channel: TelegramChannel, url: str) -> None:
        """Tell Telegram where to post updates, and the secret to post them with."""
        await channel.bot.set_webhook(
            url=url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES
        )
        logger.info("telegram webhook registered")

    async def receive(self, request: web.Request) -> web.Response:
        """Store a posted update: 401 without the secret, 400 if it is not an update."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            logger.warning("telegram webhook request without the right secret refused")
            return failure(401, "unauthorized", f"The {SECRET_HEADER} header is missing or wrong.")
        channel = request.app.get(self.channel_key)
        if channel is None:
            return failure(503, "not_ready", "Telegram is starting; try again in a moment.")
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return failure(413, "too_large", "An update cannot be this large.")
        try:
            data: Any = await request.json()
        except ValueError:
            return failure(400, "invalid_json", "The body must be a JSON update.")
        if not isinstance(data, dict):
            return failure(400, "invalid_update", "The body must be a JSON object.")
        try:
            await channel.receive(data)
        except ValueError:
            return failure(400, "invalid_update", "An update needs an integer update_id.")
        return web.json_response({"ok": True})

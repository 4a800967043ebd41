"""The web chat channel: a plain page and a JSON endpoint in front of the shared conversation."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from aiohttp import web

from bot.conversation import Conversation
from contentlib import ContentStore
from contentlib.markdown import to_web_html
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_MESSAGE_LENGTH = 4000
TEMPLATES = Path(__file__).parent / "templates"

conversation_key = web.AppKey("conversation", Conversation)
content_key = web.AppKey("content", ContentStore)
templates_key = web.AppKey("templates", jinja2.Environment)


def error(status: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    """A JSON error answer the page can show."""
    return status(
        text=web.json_response({"error": {"code": code, "message": message}}).text,
        content_type="application/json",
    )


async def page(request: web.Request) -> web.Response:
    """Serve the chat page, in the language the browser prefers."""
    content = request.app[content_key]
    language = content.language_or_default(
        request.query.get("lang") or request.headers.get("Accept-Language", "")[:2]
    )
    strings = {
        key: content.text(f"webchat.{key}", language)
        for key in ("title", "intro", "input_label", "placeholder", "send", "connection_error")
    }
    template = request.app[templates_key].get_template("webchat.html")
    return web.Response(
        text=template.render(language=language, strings=strings), content_type="text/html"
    )


@dataclass(frozen=True)
class WebMessage:
    """A message the page posted: whose, what, in which language, and its id for retries."""

    session_id: str
    text: str
    language: str | None
    message_id: str | None
    retry: bool


async def read_message(request: web.Request) -> WebMessage:
    """Read and check the session id, text, language and message id of a posted message."""
    try:
        body = await request.json()
    except ValueError:
        raise error(web.HTTPBadRequest, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise error(web.HTTPBadRequest, "invalid_json", "The body must be a JSON object.")
    session_id, text, language = body.get("session_id"), body.get("text"), body.get("language")
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise error(
            web.HTTPUnprocessableEntity,
            "invalid_session",
            "session_id must be 8 to 64 letters, digits, '-' or '_'.",
        )
    if not isinstance(text, str) or not text.strip():
        raise error(web.HTTPUnprocessableEntity, "invalid_text", "text must be a non-empty string.")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise error(
            web.HTTPUnprocessableEntity,
            "text_too_long",
            f"text must be at most {MAX_MESSAGE_LENGTH} characters.",
        )
    message_id = body.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str) or not SESSION_ID.match(message_id)
    ):
        raise error(
            web.HTTPUnprocessableEntity,
            "invalid_message_id",
            "message_id must be 8 to 64 letters, digits, '-' or '_'.",
        )
    return WebMessage(
        session_id=session_id,
        text=text,
        language=language if isinstance(language, str) else None,
        message_id=f"webchat-{message_id}" if message_id else None,
        retry=body.get("retry") is True,
    )


async def post_message(request: web.Request) -> web.Response:
    """Pass one web chat message to the conversation and return the replies.

    The page sends each message with an id of its own and, when the answer was lost on the
    way, sends it again with `retry`: Rasa then answers what it answered the first time.
    """
    message = await read_message(request)
    replies = await request.app[conversation_key].respond(
        str(ConversationId.webchat(message.session_id)),
        message.text,
        message.language,
        message_id=message.message_id,
        redelivered=message.retry,
    )
    return web.json_response(
        {
            "replies": [
                {
                    "html": to_web_html(r.text),
                    "buttons": [{"title": b.title, "payload": b.payload} for b in r.buttons],
                }
                for r in replies
            ]
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the page, its static files and the message endpoint."""
    app[templates_key] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.router.add_get("/", page)
    app.router.add_post("/api/messages", post_message)
    app.router.add_static("/static/", Path(__file__).parent / "static")

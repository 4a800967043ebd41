"""The web chat channel: a plain page and a JSON endpoint in front of the shared conversation.

The page opens with the welcome, asked for once per session: a reload reads the same welcome
back from the conversation instead of greeting twice. A tap on a file's label button is
answered by bot.attachments, never by Rasa; the files themselves come through
bot.webchat_records.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.attachments import Attachments, LabelChoice
from bot.conversation import GREET, Conversation
from bot.rasa_client import Reply
from contentlib import ContentStore
from contentlib.markdown import to_web_html
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_MESSAGE_LENGTH = 4000
# As much as Telegram lets a bot take; a bigger file goes through the upload page.
FILE_LIMIT = 20 * 1024 * 1024
# The welcome's message id: the same for every session, so Rasa takes it once per session.
WELCOME_ID = "webchat-welcome"
TEMPLATES = Path(__file__).parent / "templates"
PAGE_STRINGS = (
    "title",
    "intro",
    "input_label",
    "placeholder",
    "send",
    "connection_error",
    "attach",
    "file_sending",
    "file_failed",
    "welcome_failed",
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

conversation_key = web.AppKey("conversation", Conversation)
content_key = web.AppKey("content", ContentStore)
attachments_key = web.AppKey("attachments", Attachments)
templates_key = web.AppKey("templates", jinja2.Environment)


def error(status: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    """A JSON error answer the page can show."""
    return status(
        text=web.json_response({"error": {"code": code, "message": message}}).text,
        content_type="application/json",
    )


def answer(replies: Sequence[Reply], status: int = 200) -> web.Response:
    """The assistant's replies as the page shows them: each one's HTML and its buttons."""
    shown = [
        {
            "html": to_web_html(reply.text),
            "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
        }
        for reply in replies
    ]
    return web.json_response({"replies": shown}, status=status)


def checked_session(session_id: object) -> str:
    """The session id the page sent, if it has the form the page gives it."""
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise error(
            web.HTTPUnprocessableEntity,
            "invalid_session",
            "session_id must be 8 to 64 letters, digits, '-' or '_'.",
        )
    return session_id


def spoken(request: web.Request, conversation: ConversationId, language: str | None) -> str:
    """The conversation's language: as Rasa last reported it, else the page's."""
    known = request.app[conversation_key].languages.get(str(conversation))
    return known or request.app[content_key].language_or_default(language)


async def page(request: web.Request) -> web.Response:
    """Serve the chat page, in the language the browser prefers."""
    content = request.app[content_key]
    language = content.language_or_default(
        request.query.get("lang") or request.headers.get("Accept-Language", "")[:2]
    )
    strings = {key: content.text(f"webchat.{key}", language) for key in PAGE_STRINGS}
    template = request.app[templates_key].get_template("webchat.html")
    return web.Response(
        text=template.render(language=language, strings=strings, file_limit=FILE_LIMIT),
        content_type="text/html",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


@dataclass(frozen=True)
class WebMessage:
    """A message the page posted: whose, what, in which language, and its id for retries."""

    session_id: str
    text: str
    language: str | None
    message_id: str | None
    retry: bool

    @property
    def conversation(self) -> ConversationId:
        """The conversation of the message's session."""
        return ConversationId.webchat(self.session_id)


async def read_object(request: web.Request) -> dict[str, Any]:
    """The posted JSON object."""
    try:
        body = await request.json()
    except ValueError:
        raise error(web.HTTPBadRequest, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise error(web.HTTPBadRequest, "invalid_json", "The body must be a JSON object.")
    return body


async def read_message(request: web.Request) -> WebMessage:
    """Read and check the session id, text, language and message id of a posted message."""
    body = await read_object(request)
    session_id, text, language = body.get("session_id"), body.get("text"), body.get("language")
    session_id = checked_session(session_id)
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
    way, sends it again with `retry`: Rasa then answers what it answered the first time. A tap
    on a file's label button goes to the records instead.
    """
    message = await read_message(request)
    choice = LabelChoice.parse(message.text)
    if choice is not None:
        language = spoken(request, message.conversation, message.language)
        return answer(
            await request.app[attachments_key].relabel(message.conversation, choice, language)
        )
    replies = await request.app[conversation_key].respond(
        str(message.conversation),
        message.text,
        message.language,
        message_id=message.message_id,
        redelivered=message.retry,
    )
    return answer(replies)


async def post_welcome(request: web.Request) -> web.Response:
    """Greet a session as /start does on Telegram, once: asked again (a reload), Rasa reads the
    welcome it gave back from the conversation instead of greeting a second time.
    """
    body = await read_object(request)
    session_id = checked_session(body.get("session_id"))
    language = body.get("language")
    replies = await request.app[conversation_key].respond(
        str(ConversationId.webchat(session_id)),
        GREET,
        language if isinstance(language, str) else None,
        message_id=WELCOME_ID,
        redelivered=True,
    )
    return answer(replies)


def add_routes(app: web.Application) -> None:
    """Register the page, its static files, the welcome and the message endpoint."""
    app[templates_key] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.router.add_get("/", page)
    app.router.add_post("/api/messages", post_message)
    app.router.add_post("/api/welcome", post_welcome)
    app.router.add_static("/static/", Path(__file__).parent / "static")

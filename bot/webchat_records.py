"""The records patients send from the web chat: the page posts each file's bytes, and the bot
takes them to the session's request through bot.attachments, as Telegram does.

`POST /api/files?session_id=…` carries one file as its raw body, with its Content-Length (411
without). A file over the chat's limit is refused before it is read, with the upload page's
link in the answer; `POST /api/upload-link?session_id=…` gives the same answer at once, for a
file the page already knows is too big. Either way the answer holds the replies in the shape
the message endpoint returns, so the page shows them like any other turn.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from bot import webchat
from bot.attachments import Attachments
from bot.reception_client import ReceptionClient
from contentlib import ContentStore
from conversation_id import ConversationId

FILES_PATH = "/api/files"
UPLOAD_LINK_PATH = "/api/upload-link"
# Telegram's words name its paperclip and /start: the web chat says these instead.
WEBCHAT_WORDS = {
    "records_no_request": "webchat.records_no_request",
    "records_unsupported_type": "webchat.records_unsupported_type",
}


def attachments_for(
    reception: ReceptionClient, content: ContentStore, uploads_url: str
) -> Attachments:
    """The attachments as the web chat answers them: in its own words, with a link to click."""
    return Attachments(reception, content, uploads_url, instead=WEBCHAT_WORDS, linked=True)


def conversation_of(request: web.Request) -> tuple[ConversationId, str]:
    """The conversation of the session in the query, and the language to answer it in."""
    conversation = ConversationId.webchat(webchat.checked_session(request.query.get("session_id")))
    return conversation, webchat.spoken(request, conversation, request.query.get("language"))


async def post_file(request: web.Request) -> web.Response:
    """Take one file to the session's request, and answer with the receipt or why not."""
    conversation, language = conversation_of(request)
    length = request.content_length
    if length is None:
        raise webchat.error(
            web.HTTPLengthRequired, "length_required", "Send the file with its Content-Length."
        )
    records = request.app[webchat.attachments_key]
    if length > webchat.FILE_LIMIT:
        return webchat.answer(await records.offer_link(conversation, language), status=413)
    if length == 0:
        raise webchat.error(web.HTTPBadRequest, "empty_file", "The file is empty.")
    data = await request.content.read()  # framed by Content-Length: at most the limit
    if len(data) != length:
        raise webchat.error(web.HTTPBadRequest, "incomplete_file", "The file did not all arrive.")
    once = f"{conversation}:{hashlib.sha256(data).hexdigest()}"  # sent again, it adds nothing
    return webchat.answer(await records.take(conversation, data, once, language))


async def post_upload_link(request: web.Request) -> web.Response:
    """Give the session's request a link to the upload page, for files too big for the chat."""
    conversation, language = conversation_of(request)
    records = request.app[webchat.attachments_key]
    return webchat.answer(await records.offer_link(conversation, language))


def add_routes(app: web.Application) -> None:
    """Register the file endpoint and the upload link's."""
    app.router.add_post(FILES_PATH, post_file)
    app.router.add_post(UPLOAD_LINK_PATH, post_upload_link)

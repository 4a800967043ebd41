"""The upload link: the patient's own page for sending records to their request, at any time.

Reception makes the link's secret token (one live link per request: a new one replaces the old);
the action server knows where patients reach the upload page (UPLOADS_PUBLIC_URL). The link is
sent without a link preview, so that Telegram's servers never open it.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.reception_client import NoOpenRequest, ReceptionUnavailable
from actions.services import Button, button, in_form, payload, reception, say, settings, text
from contentlib import Markdown
from contentlib.markdown import escape
from conversation_id import ConversationId

logger = logging.getLogger(__name__)

INTENT = "send_records"
UPLOAD_PAGE_PATH = "/records"  # served by the upload service: <UPLOADS_PUBLIC_URL>/records/<token>
# What the bot reads in a message's custom part: show this message without a link preview.
NO_PREVIEW = {"reply": {"link_previews": False}}


def records_button(tracker: Tracker) -> Button:
    """The button that asks for the upload link."""
    return button(tracker, "records_link_button", payload(INTENT))


def page_link(token: str) -> Markdown:
    """The upload page's address as a link that shows the address itself."""
    url = f"{settings().uploads_public_url}{UPLOAD_PAGE_PATH}/{token}"
    return Markdown(f"[{escape(url)}]({url})")


class ActionSendUploadLink(Action):
    """Give the patient the link to their request's upload page."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_send_upload_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask reception for a new link and send it; say kindly why when there is none."""
        if in_form(tracker):
            say(dispatcher, tracker, "records_link_in_form")
            return []
        if tracker.get_slot("consent") != "given":
            say(dispatcher, tracker, "records_link_no_request")
            return []
        conversation = ConversationId.of_sender(tracker.sender_id)
        try:
            link = await reception().upload_link(conversation.channel.value, conversation.address)
        except NoOpenRequest:
            say(dispatcher, tracker, "records_link_no_request")
            return []
        except ReceptionUnavailable as error:
            logger.warning("no upload link: %s", error)
            say(dispatcher, tracker, "records_link_unavailable")
            return []
        message = text(
            tracker, "records_link", reference=link.reference, link=page_link(link.token)
        )
        dispatcher.utter_message(text=message, json_message=NO_PREVIEW)
        return []

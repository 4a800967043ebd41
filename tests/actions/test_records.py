"""The upload link, as the patient asks for it after the handoff, against a stand-in reception."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.records import ActionSendUploadLink
from contentlib import ContentStore, Markdown
from contentlib.markdown import to_telegram_html, to_web_html
from tests.actions.conftest import FakeReception

ADDRESS = {"channel": "telegram", "channel_address": "555"}
REQUEST = {**ADDRESS, "reference": "SO-2026-00003", "language": "fr"}


def asking(tracker: Callable[..., Tracker], **slots: str) -> Tracker:
    """A conversation after the handoff, whose patient asks for the link."""
    return tracker({"consent": "given", **slots}, form_active=False)


async def test_the_link_points_at_the_upload_page_without_a_preview(
    tracker: Callable[..., Tracker],
    reception: FakeReception,
    content: ContentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The patient gets their page's address as a link, in their language, with no preview."""
    monkeypatch.setenv("UPLOADS_PUBLIC_URL", "https://records.example.org/")
    services.settings.cache_clear()
    reception.tickets["key"] = REQUEST
    dispatcher = CollectingDispatcher()
    result = await ActionSendUploadLink().run(dispatcher, asking(tracker, language="nl"), {})
    assert result == []
    assert reception.upload_links == [ADDRESS]
    url = "https://records.example.org/records/tok-1_x"
    [message] = dispatcher.messages
    link = Markdown(f"[https://records.example.org/records/tok-1\\_x]({url})")
    assert message["text"] == content.text(
        "records_link", "nl", reference="SO-2026-00003", link=link
    )
    assert message["custom"] == {"reply": {"link_previews": False}}


async def test_the_web_chat_shows_the_address_as_a_link(
    tracker: Callable[..., Tracker], reception: FakeReception
) -> None:
    """The address is both the link's text and its target, each exactly as reception made it."""
    reception.tickets["key"] = {**REQUEST, "channel": "webchat", "channel_address": "abcdefgh"}
    dispatcher = CollectingDispatcher()
    conversation = tracker({"consent": "given"}, sender_id="webchat:abcdefgh", form_active=False)
    await ActionSendUploadLink().run(dispatcher, conversation, {})
    url = "http://localhost:8090/records/tok-1_x"
    html = to_web_html(dispatcher.messages[0]["text"])
    assert f'<a href="{url}" rel="noopener noreferrer" target="_blank">{url}</a>' in html
    assert f'<a href="{url}">{url}</a>' in to_telegram_html(dispatcher.messages[0]["text"])


async def test_no_open_request_says_how_to_start_one(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionSendUploadLink().run(dispatcher, asking(tracker), {})
    assert reception.upload_links == [ADDRESS]
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("records_link_no_request", "en")
    ]
    assert not dispatcher.messages[0]["custom"]  # nothing to keep from Telegram's crawler


@pytest.mark.parametrize("status", [503, 401, 422])
async def test_reception_out_of_reach_asks_to_try_again(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore, status: int
) -> None:
    reception.status = status
    reception.tickets["key"] = REQUEST
    dispatcher = CollectingDispatcher()
    await ActionSendUploadLink().run(dispatcher, asking(tracker), {})
    assert [m["text"] for m in dispatcher.messages] == [
        content.text("records_link_unavailable", "en")
    ]


async def test_without_consent_or_during_the_request_reception_is_not_asked(
    tracker: Callable[..., Tracker], reception: FakeReception, content: ContentStore
) -> None:
    """No consent, no request to send records to; in the form, the request is not sent yet."""
    reception.tickets["key"] = REQUEST
    for conversation, key in (
        (tracker({"consent": "declined"}, form_active=False), "records_link_no_request"),
        (tracker({"consent": "given"}, form_active=True), "records_link_in_form"),
    ):
        dispatcher = CollectingDispatcher()
        await ActionSendUploadLink().run(dispatcher, conversation, {})
        assert [m["text"] for m in dispatcher.messages] == [content.text(key, "en")]
    assert reception.upload_links == []

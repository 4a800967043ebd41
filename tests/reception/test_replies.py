"""Canned replies: in every language, filled in from the ticket, and inserted by /code."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from contentlib import ContentStore
from contenttools import check
from harness.stack import ROOT
from reception.models import Ticket
from reception.replies import codes, fill, replies_for
from tests.reception.support import Client, StaffBrowser, create_ticket

CONTENT = ROOT / "content"
LANGUAGES = ("en", "fr", "nl")


def a_ticket(language: str) -> Ticket:
    """A ticket as reception keeps it, with two records still missing."""
    return Ticket(
        reference="SO-2027-00042",
        language=language,
        contact_name="Lotte Claes",
        records={"reports": "have", "imaging": "not_yet", "blood": "unknown"},
    )


@pytest.fixture(scope="module")
def content() -> ContentStore:
    """The repository's content, as reception reads it."""
    return ContentStore(CONTENT)


def test_every_reply_exists_in_every_language_and_fills_in_its_variables(
    content: ContentStore,
) -> None:
    assert {"received", "records", "no_answer", "consultation", "closed"} <= set(codes(content))
    for language in LANGUAGES:
        ticket = a_ticket(language)
        for code in codes(content):
            assert f"replies.{code}.text" in content.messages(language), (language, code)
            text = fill(content, code, language, ticket)
            assert "{{" not in text and "Lotte Claes" in text, (language, code)
        records = fill(content, "records", language, ticket)
        for item in ("imaging", "blood"):
            assert f"- {content.text(f'records.{item}.name', language)}" in records
        assert str(content.text("records.reports.name", language)) not in records


def test_a_french_patient_gets_french_and_staff_see_english_beside_it(
    content: ContentStore,
) -> None:
    by_code = {reply.code: reply for reply in replies_for(content, a_ticket("fr"))}
    received = by_code["received"]
    assert received.text.startswith("Bonjour Lotte Claes, merci pour votre demande SO-2027-00042")
    assert received.translation is not None
    assert received.translation.startswith("Hello Lotte Claes, thank you for your request")
    assert received.title == "Request received"
    dutch = {reply.code: reply for reply in replies_for(content, a_ticket("nl"))}
    assert dutch["no_answer"].text.startswith("Dag Lotte Claes")
    assert content.reference("nl")["reception"]["phone"] in dutch["no_answer"].text
    english = replies_for(content, a_ticket("en"))
    assert all(reply.translation is None for reply in english)


def test_the_content_check_reports_a_reply_missing_in_one_language(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    replies = root / "nl" / "replies.yml"
    text = replies.read_text()
    start = text.index("  closed:")
    replies.write_text(text[:start])
    problems = [str(problem) for problem in check.check(root, dt.date(2027, 1, 4))]
    assert any(
        "content/nl/replies.yml" in problem and "'replies.closed.text' is missing" in problem
        for problem in problems
    ), problems


def textarea(page: str) -> str:
    """The message box's text on a ticket page."""
    found = re.search(r'<textarea id="message-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, page
    return unescape(found.group(1))


async def test_the_ticket_page_puts_a_reply_in_the_message_box_in_the_patients_language(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str]
) -> None:
    ticket = await create_ticket(client, auth_headers, language="fr")
    page_url = f"/inbox/tickets/{ticket['reference']}"
    _, page = await browser.get(page_url)
    assert textarea(page) == ""
    assert "<code>/records</code> Records still missing" in page
    data = re.search(r'<script type="application/json" id="replies-data">(.*?)</script>', page)
    assert data
    replies = json.loads(data.group(1))
    assert replies["records"]["text"].startswith("Bonjour Ada Example")
    assert "Pathology reports" in replies["records"]["translation"]

    _, chosen = await browser.get(page_url, params={"reply": "records"})
    assert textarea(chosen).startswith("Bonjour Ada Example, pour préparer votre consultation")
    assert "- Rapports d'anatomie pathologique" in textarea(chosen)
    assert "The same reply in English, for you" in chosen
    assert 'id="reply-translation" class="translation" aria-live="polite" hidden' not in chosen

    _, unknown = await browser.get(page_url, params={"reply": "nonexistent"})
    assert textarea(unknown) == ""

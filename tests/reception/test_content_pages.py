"""The editors' side of reception: the gap report's API and page, and the content preview."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from reception.appkeys import SESSIONMAKER_KEY
from reception.models import ContentGap, StaffRole
from reception.settings import Settings
from tests.content_fixture import content
from tests.reception.conftest import API_TOKEN, SESSION_SECRET
from tests.reception.support import Client, FakeBot, StaffBrowser, add_staff

RASA_TOKEN = "rasa-test-token"
GAPS = "/api/v1/gaps"


@dataclass
class FakeRasa:
    """Rasa's HTTP API as the preview uses it: /status and /model/parse, behind a token."""

    url: str = ""
    parsed: list[str] = field(default_factory=list)
    server: TestServer | None = None

    async def start(self) -> None:
        """Serve on a free port."""
        app = web.Application()
        app.router.add_get("/status", self.status)
        app.router.add_post("/model/parse", self.parse)
        self.server = TestServer(app)
        await self.server.start_server()
        self.url = str(self.server.make_url("")).rstrip("/")

    async def status(self, request: web.Request) -> web.Response:
        """Answer which model runs."""
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"message": "no"}, status=401)
        return web.json_response({"model_file": "model-0123456789abcdef.tar.gz"})

    async def parse(self, request: web.Request) -> web.Response:
        """Understand every question as the costs topic, with the delay topic second."""
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"message": "no"}, status=401)
        self.parsed.append((await request.json())["text"])
        ranking = [
            {"name": "faq_costs", "confidence": 0.8712},
            {"name": "faq_delay", "confidence": 0.0931},
        ]
        return web.json_response({"intent": ranking[0], "intent_ranking": ranking})


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    """A stand-in for Rasa's API."""
    rasa = FakeRasa()
    await rasa.start()
    yield rasa
    if rasa.server is not None:
        await rasa.server.close()


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A small content folder that reception previews and edits."""
    return content(tmp_path)


@pytest.fixture
def settings(
    database_url: str, fake_bot: FakeBot, fake_rasa: FakeRasa, content_root: Path
) -> Settings:
    """Reception with its content folder and Rasa's API."""
    return Settings(
        api_token=API_TOKEN,
        session_secret=SESSION_SECRET,
        database_url=database_url,
        bot_url=fake_bot.url,
        content_dir=content_root,
        rasa_url=fake_rasa.url,
        rasa_api_token=RASA_TOKEN,
    )


@pytest.fixture
async def editor(client: Client) -> AsyncIterator[StaffBrowser]:
    """The browser of a signed-in editor."""
    await add_staff(client, "ed@example.org", StaffRole.EDITOR)
    staff = StaffBrowser(client)
    assert (await staff.login("ed@example.org")).status == 303
    yield staff
    await staff.close()


async def report(
    client: Client, headers: dict[str, str], text: str, intent: str = "nlu_fallback"
) -> Any:
    """Report a question through the API and return the response."""
    body = {"text": text, "language": "en", "intent": intent}
    return await client.post(GAPS, json=body, headers=headers)


async def stored_gaps(client: Client) -> list[ContentGap]:
    """Every stored question."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        return list((await session.scalars(select(ContentGap).order_by(ContentGap.id))).all())


async def asked_on(client: Client, day: datetime) -> None:
    """Move every stored question to one moment."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        await session.execute(update(ContentGap).values(asked_at=day))
        await session.commit()


def rows(page: str) -> list[str]:
    """The questions listed on the gap page, as their text."""
    return [html.unescape(text) for text in re.findall(r'<span class="question">([^<]*)', page)]


async def test_a_gap_is_stored_without_who_asked(
    client: Client, auth_headers: dict[str, str]
) -> None:
    response = await report(client, auth_headers, "  Can I park   my car?  ")
    assert (response.status, await response.json()) == (201, {"status": "recorded"})
    [gap] = await stored_gaps(client)
    assert (gap.text, gap.normalised, gap.language, gap.intent) == (
        "Can I park my car?",
        "can i park my car",
        "en",
        "nlu_fallback",
    )
    assert {column.name for column in ContentGap.__table__.columns} == {
        "id",
        "text",
        "normalised",
        "language",
        "intent",
        "asked_at",
        "handled_at",
        "handled_by",
        "topic",
    }


@pytest.mark.parametrize(
    "text", ["my phone is 0470 12 34 56", "mail me: ana@example.org", "   ", "+32(0)2.541.31.11"]
)
async def test_a_gap_with_contact_details_is_dropped(
    client: Client, auth_headers: dict[str, str], text: str
) -> None:
    response = await report(client, auth_headers, text)
    assert (response.status, await response.json()) == (200, {"status": "dropped"})
    assert await stored_gaps(client) == []


async def test_gaps_need_the_token_and_a_known_intent(
    client: Client, auth_headers: dict[str, str]
) -> None:
    assert (await report(client, {}, "Can I park?")).status == 401
    response = await report(client, auth_headers, "Can I park?", intent="greet")
    assert response.status == 422
    assert await stored_gaps(client) == []


async def test_the_gap_page_groups_and_counts_questions(
    client: Client, auth_headers: dict[str, str], editor: StaffBrowser
) -> None:
    await report(client, auth_headers, "Can I park?")
    await asked_on(client, datetime(2026, 2, 27, 9, tzinfo=UTC))
    await report(client, auth_headers, "can i park")
    await report(client, auth_headers, "Is there a cafeteria?", intent="out_of_scope")
    response, page = await editor.get("/content/gaps")
    assert response.status == 200
    assert rows(page) == ["can i park", "Is there a cafeteria?"]
    today = datetime.now(UTC).date().isoformat()
    assert f'2 times</td>\n      <td class="dates"><time datetime="{today}">' in page
    assert '<time datetime="2026-02-27">2026-02-27</time>' in page
    assert "en · not understood" in page and "en · off topic" in page
    assert ">How long does it take?</option>" in page


async def test_a_gap_becomes_an_example_question_of_a_topic(
    client: Client, auth_headers: dict[str, str], editor: StaffBrowser, content_root: Path
) -> None:
    topic = content_root / "en" / "faq" / "costs.md"
    before = topic.read_bytes()
    await report(client, auth_headers, "do I pay: for parking?")
    await report(client, auth_headers, "Do I pay for parking")
    await editor.get("/content/gaps")
    response, _ = await editor.post(
        "/content/gaps/examples",
        {
            "key": "do i pay for parking",
            "language": "en",
            "question": "do I pay: for parking?",
            "topic": "costs",
        },
    )
    assert (response.status, response.headers["Location"]) == (
        303,
        "/content/gaps?done=added#notice",
    )
    anchor = b"  - will I get a bill afterwards\n"
    assert topic.read_bytes() == before.replace(anchor, anchor + b'  - "do I pay: for parking?"\n')
    _, page = await editor.get(response.headers["Location"])
    assert rows(page) == []
    assert "Publish (make publish) so that the assistant learns it." in page
    assert {(gap.handled_by, gap.topic) for gap in await stored_gaps(client)} == {
        ("ed@example.org", "costs")
    }


async def test_a_question_that_would_break_the_check_is_refused(
    client: Client, auth_headers: dict[str, str], editor: StaffBrowser, content_root: Path
) -> None:
    topic = content_root / "en" / "faq" / "delay.md"
    before = topic.read_bytes()
    await report(client, auth_headers, "how much does a second opinion cost?")
    await editor.get("/content/gaps")
    response, page = await editor.post(
        "/content/gaps/examples",
        {
            "key": "how much does a second opinion cost",
            "language": "en",
            "question": "how much does a second opinion cost?",
            "topic": "delay",
        },
    )
    assert response.status == 409
    assert (
        html.unescape(page).count(
            "“how much does a second opinion cost?” was not added, because the content check "
            'would then fail: content/en/faq/delay.md:13: the example "how much does a second '
            'opinion cost?" is almost the same as "how much does a second opinion cost" in '
            "content/en/faq/costs.md:5 — the assistant cannot tell the two topics apart: keep it "
            "in one topic."
        )
        == 1
    )
    assert topic.read_bytes() == before
    assert rows(page) == ["how much does a second opinion cost?"]


async def test_a_gap_can_be_dismissed_and_forms_need_their_csrf_token(
    client: Client, auth_headers: dict[str, str], editor: StaffBrowser
) -> None:
    await report(client, auth_headers, "tell me a joke", intent="out_of_scope")
    await editor.get("/content/gaps")
    form = {"key": "tell me a joke", "language": "en"}
    response, _ = await editor.post("/content/gaps/dismiss", form, csrf=False)
    assert response.status == 403
    response, _ = await editor.post("/content/gaps/dismiss", form)
    assert response.status == 303
    _, page = await editor.get(response.headers["Location"])
    assert rows(page) == [] and "The question was dismissed." in page
    assert [(gap.topic, gap.handled_by) for gap in await stored_gaps(client)] == [
        (None, "ed@example.org")
    ]


async def test_only_editors_and_admins_see_the_content_pages(
    client: Client, browser: StaffBrowser
) -> None:
    for path in ("/content", "/content/gaps"):
        response, page = await browser.get(path)
        assert response.status == 403
        assert "Only editors and admins can preview the content." in page
    await add_staff(client, "admin@example.org", StaffRole.ADMIN)
    admin = StaffBrowser(client)
    try:
        await admin.login("admin@example.org")
        response, page = await admin.get("/content")
        assert response.status == 200
        assert '<a href="/content/gaps">Unanswered questions</a>' in page
    finally:
        await admin.close()


async def test_the_preview_shows_what_patients_read(editor: StaffBrowser) -> None:
    response, page = await editor.get("/content")
    assert response.status == 200
    assert "<h3>How much does it cost?</h3>" in page
    assert 'faq_costs · <span class="examples">8 example questions</span> · review' in page
    assert "<p>Reception can tell you: call +32 2 000 00 00.</p>" in page
    assert "<p><strong>Pathology reports</strong>: the analyses of tissue" in page
    assert "Variables: contains, name" in page
    assert "The assistant runs the model model-0123456789abcdef.tar.gz." in page
    assert "No problems: the content is ready to publish." in page


async def test_the_preview_tries_a_question_on_the_live_model(
    editor: StaffBrowser, fake_rasa: FakeRasa
) -> None:
    response, page = await editor.get("/content", params={"q": "is it expensive"})
    assert response.status == 200
    assert fake_rasa.parsed == ["is it expensive"]
    assert '<dd id="tried-pick">How much does it cost? (faq_costs), 87% sure</dd>' in page
    assert '<dd id="tried-runner-up">How long does it take? (faq_delay), 9%</dd>' in page


async def test_the_preview_shows_the_content_check(
    editor: StaffBrowser, content_root: Path
) -> None:
    path = content_root / "en" / "faq" / "delay.md"
    path.write_text(path.read_text().replace("review: 2027-01-01", "review: 2020-01-01"))
    _, page = await editor.get("/content")
    assert "content/en/faq/delay.md:14: WARNING: the review date 2020-01-01 has passed" in page
    assert "2020-01-01 (passed)" in page


async def test_the_preview_says_when_rasa_cannot_be_asked(
    client: Client, editor: StaffBrowser, fake_rasa: FakeRasa
) -> None:
    assert fake_rasa.server is not None
    await fake_rasa.server.close()
    response, page = await editor.get("/content", params={"q": "is it expensive"})
    assert response.status == 200
    assert (
        "The assistant&#39;s language model (Rasa) cannot be asked right now: Rasa cannot be "
        "reached. Questions cannot be tried until it is back" in page
    )
    assert "<h3>How much does it cost?</h3>" in page

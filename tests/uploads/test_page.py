"""The upload page: in the patient's language, kind when the link does not work, never used up."""

from __future__ import annotations

import html as markup
import json
import re
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from contentlib import ContentStore
from harness.stack import free_port
from uploads.access_log import without_token
from uploads.app import create_app
from uploads.labels import CHECKLIST, LABELS
from uploads.page import PAGE_TEXTS, PROBLEMS, STATE_TEXTS
from uploads.settings import Settings

from .fake_reception import FakeReception
from .test_tus import TOKEN, create

Client = TestClient[web.Request, web.Application]


async def test_opening_the_page_twice_uses_nothing_up(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    """Telegram's preview crawler opens the link first; the patient's visit must still work."""
    fake, _ = reception
    fake.add_link(TOKEN)
    for _ in range(2):
        response = await uploads.get(f"/records/{TOKEN}")
        assert response.status == 200
    assert await create(uploads, 10)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
async def test_the_page_speaks_the_patients_language(
    uploads: Client, reception: tuple[FakeReception, str], content: ContentStore, language: str
) -> None:
    fake, _ = reception
    link = fake.add_link(TOKEN, language=language)
    link.attachments.append({"label": "blood", "size": 2_500_000, "scan": "clean"})
    page = await uploads.get(f"/records/{TOKEN}", headers={"Accept-Language": "en"})
    html = markup.unescape(await page.text())
    assert f'<html lang="{language}">' in html
    for key in ("uploads.page.title", "uploads.page.choose_folder", "uploads.page.label_question"):
        assert str(content.text(key, language)) in html
    assert link.reference in html
    assert str(content.text("records.blood.name", language)) in html  # what was received
    data = json.loads(re.findall(r'id="page-data">(.*?)</script>', html, re.S)[0])
    names = [label["name"] for label in data["labels"]]
    assert str(content.text("records.pathology.name", language)) in names
    assert str(content.text("uploads.page.label_other", language)) in names
    assert data["states"]["received"] == str(content.text("uploads.state.received", language))
    assert ("2,5 MB" if language != "en" else "2.5 MB") in html


async def test_the_page_allows_no_inline_script_and_leaks_no_token(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    response = await uploads.get(f"/records/{TOKEN}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "webkitdirectory" in html and "multiple" in html


async def test_the_page_script_and_tus_client_are_served(uploads: Client) -> None:
    script = await uploads.get("/static/records.js")
    assert script.status == 200
    tus = await uploads.get("/static/vendor/tus.min.js")
    assert tus.status == 200, "run scripts/ensure-tus-js"
    assert "javascript" in tus.headers["Content-Type"]


@pytest.mark.parametrize(
    ("state", "status", "key"),
    [
        (None, 404, "uploads.unknown.title"),
        ("expired", 410, "uploads.expired.title"),
        ("revoked", 410, "uploads.expired.title"),
    ],
)
async def test_a_link_that_does_not_work_gets_a_kind_page_in_the_browsers_language(
    uploads: Client,
    reception: tuple[FakeReception, str],
    content: ContentStore,
    state: str | None,
    status: int,
    key: str,
) -> None:
    if state:
        reception[0].add_link(TOKEN, state=state)
    response = await uploads.get(f"/records/{TOKEN}", headers={"Accept-Language": "nl-BE,nl"})
    assert response.status == status
    html = await response.text()
    assert '<html lang="nl">' in html
    assert str(content.text(key, "nl")) in html


async def test_reception_out_of_reach_gets_a_page_saying_to_try_again(
    settings: Settings, content: ContentStore
) -> None:
    unreachable = replace(settings, reception_url=f"http://127.0.0.1:{free_port()}")
    async with TestClient(TestServer(create_app(unreachable))) as client:
        response = await client.get(f"/records/{TOKEN}")
        assert response.status == 503
        assert str(content.text("uploads.unavailable.title", "en")) in await response.text()


def test_the_access_log_never_shows_a_token() -> None:
    assert without_token(f"/records/{TOKEN}/files/abc") == "/records/…/files/abc"
    assert without_token(f"/records/{TOKEN}") == "/records/…"
    assert without_token("/static/records.js") == "/static/records.js"


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_every_sentence_the_service_says_is_written_in_each_language(
    content: ContentStore, language: str
) -> None:
    keys = [f"uploads.page.{key}" for key in PAGE_TEXTS]
    keys += [f"uploads.state.{key}" for key in STATE_TEXTS]
    keys += [f"uploads.{kind}.{part}" for kind in PROBLEMS.values() for part in ("title", "text")]
    keys += [f"records.{key}.name" for key in CHECKLIST] + ["uploads.page.label_other"]
    written = content.messages(language)
    assert [key for key in keys if key not in written] == []
    assert set(LABELS) == {*CHECKLIST, "other"}

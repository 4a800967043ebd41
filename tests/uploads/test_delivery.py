"""Finished uploads reach reception even when it is away for a while, or the service restarts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.waiting import until
from uploads.app import create_app
from uploads.housekeeping import KEEP_OUTCOME_SECONDS, tidy_once
from uploads.links import Links
from uploads.partials import Partials
from uploads.reception_client import ReceptionClient
from uploads.settings import Settings

from .fake_reception import API_TOKEN, FakeReception
from .test_tus import TOKEN, TUS, create, patch

Client = TestClient[web.Request, web.Application]
KEY = bytes(range(32))


async def test_a_file_waits_while_reception_cannot_take_it_then_arrives_once(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    fake.refusing_files = True
    path = await create(uploads, 5, label="blood")
    await patch(uploads, path, 0, b"12345")
    await until(lambda: fake.attempts >= 1)
    result = await (await uploads.get(f"{path}/result")).json()
    assert result == {"state": "checking"}
    fake.refusing_files = False
    await until(lambda: fake.files.get(TOKEN), timeout=10)
    assert fake.files[TOKEN] == [b"12345"]


async def test_a_file_finished_before_a_restart_is_handed_over_after_it(
    settings: Settings, reception: tuple[FakeReception, str]
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    fake.refusing_files = True
    async with TestClient(TestServer(create_app(settings))) as before:
        path = await create(before, 3)
        await patch(before, path, 0, b"abc")
        await until(lambda: fake.attempts >= 1)
    fake.refusing_files = False
    async with TestClient(TestServer(create_app(settings))) as after:
        await until(lambda: fake.files.get(TOKEN))
        result = await (await after.get(f"{path}/result")).json()
        assert result["state"] == "received"
    assert fake.files[TOKEN] == [b"abc"]


async def test_tidying_deletes_the_uploads_of_ended_links_and_old_ones(
    settings: Settings, reception: tuple[FakeReception, str], tmp_path: Path
) -> None:
    fake, url = reception
    fake.add_link(TOKEN)
    fake.add_link("revoked-link-token-0123456789")
    partials = Partials(tmp_path / "tidy", KEY)
    live = partials.create(TOKEN, 10, None)
    old = partials.create(TOKEN, 10, None)
    ended = partials.create("revoked-link-token-0123456789", 10, None)
    answered = partials.answer(partials.create(TOKEN, 0, None), {"state": "received"})
    fake.links["revoked-link-token-0123456789"].state = "revoked"
    async with aiohttp.ClientSession() as session:
        links = Links(ReceptionClient(url, API_TOKEN, session), seconds=0.0)
        now = time.time()
        assert await tidy_once(partials, links, keep_partial_seconds=3600, now=now) == 1
        assert partials.get(ended.token, ended.id) is None
        old_path = partials.stored_path(old)
        os.utime(old_path, (now - 7200, now - 7200))
        assert await tidy_once(partials, links, keep_partial_seconds=3600, now=now) == 1
        assert partials.get(TOKEN, old.id) is None and not old_path.exists()
        later = now + KEEP_OUTCOME_SECONDS + 1
        await tidy_once(partials, links, keep_partial_seconds=later, now=later)
        assert partials.get(TOKEN, answered.id) is None
        assert partials.get(TOKEN, live.id) is not None


async def test_uploads_are_kept_under_random_names_readable_by_this_user_only(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    reception[0].add_link(TOKEN)
    headers = {**TUS, "Upload-Length": "4", "Upload-Metadata": "filename bXktc2Nhbi5wZGY="}
    response = await uploads.post(f"/records/{TOKEN}/files/", headers=headers)
    assert response.status == 201
    kept = list(settings.uploads_dir.rglob("*"))
    names = [path.name for path in kept]
    assert len(names) == 3  # the link's folder, the bytes and the description
    assert not any("scan" in name or TOKEN in name for name in names)
    for path in [settings.uploads_dir, *kept]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_an_upload_is_found_only_through_its_own_link(tmp_path: Path) -> None:
    partials = Partials(tmp_path, KEY)
    upload = partials.create(TOKEN, 10, "reports")
    assert partials.get(TOKEN, upload.id) == upload
    assert partials.get("another-live-link-0123456789", upload.id) is None
    assert partials.get(TOKEN, "../../etc/passwd") is None
    assert [u.id for u in partials.of_link(TOKEN)] == [upload.id]
    partials.delete(upload)
    assert list(tmp_path.iterdir()) == []


async def test_the_bytes_wait_encrypted_and_resume_at_any_offset(tmp_path: Path) -> None:
    partials = Partials(tmp_path, KEY)
    record = b"%PDF-1.7 the patient's report " * 100
    upload = partials.create(TOKEN, len(record), None)
    for start, end in [(0, 7), (7, 40), (40, 41), (41, len(record))]:  # across AES blocks
        with partials.appender(upload) as out:
            out.write(record[start:end])
            out.flush()
    stored = partials.stored_path(upload).read_bytes()
    assert len(stored) == len(record)
    assert b"PDF" not in stored and b"report" not in stored
    assert b"".join([chunk async for chunk in partials.contents(upload)]) == record
    other = partials.create(TOKEN, len(record), None)
    with partials.appender(other) as out:
        out.write(record)
    assert partials.stored_path(other).read_bytes() != stored  # each upload its own stream


def test_an_upload_made_under_another_key_is_not_opened(tmp_path: Path) -> None:
    upload = Partials(tmp_path, KEY).create(TOKEN, 10, None)
    assert Partials(tmp_path, bytes(32)).get(TOKEN, upload.id) is None
    assert Partials(tmp_path, KEY).get(TOKEN, upload.id) == upload

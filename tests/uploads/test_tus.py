"""The tus 1.0 endpoint: creation, offsets, appending, limits and links that no longer work."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.waiting import until
from uploads.appkeys import LINKS_KEY
from uploads.settings import Settings

from .fake_reception import FakeReception

TOKEN = "live-link-token-0123456789"
TUS = {"Tus-Resumable": "1.0.0"}
Client = TestClient[web.Request, web.Application]


def metadata(**values: str) -> str:
    """Upload-Metadata as tus writes it: key and base64 value, comma-separated."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(client: Client, length: int, token: str = TOKEN, **meta: str) -> str:
    """Create an upload and return its path."""
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(**meta)}
    response = await client.post(f"/records/{token}/files/", headers=headers)
    assert response.status == 201, await response.text()
    return response.headers["Location"]


async def patch(client: Client, path: str, offset: int, body: bytes) -> web.Response:
    """Send bytes at an offset."""
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    return await client.patch(path, data=body, headers=headers)  # type: ignore[return-value]


async def test_options_names_the_version_extensions_and_largest_file(
    uploads: Client, settings: Settings
) -> None:
    response = await uploads.options(f"/records/{TOKEN}/files/")
    assert response.status == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert response.headers["Tus-Max-Size"] == str(settings.max_file_bytes)


async def test_an_upload_in_two_parts_reaches_reception_with_its_label(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    body = b"%PDF-1.7 " + bytes(range(256)) * 100
    path = await create(uploads, len(body), label="pathology", filename="secret-name.pdf")
    assert "secret-name" not in path
    first = await patch(uploads, path, 0, body[:1000])
    assert (first.status, first.headers["Upload-Offset"]) == (204, "1000")
    head = await uploads.head(path, headers=TUS)
    assert (head.status, head.headers["Upload-Offset"]) == (200, "1000")
    assert head.headers["Upload-Length"] == str(len(body))
    assert head.headers["Cache-Control"] == "no-store"
    last = await patch(uploads, path, 1000, body[1000:])
    assert last.headers["Upload-Offset"] == str(len(body))

    async def outcome() -> dict[str, object]:
        return await (await uploads.get(f"{path}/result")).json()  # type: ignore[no-any-return]

    await until(lambda: fake.files.get(TOKEN))
    await until(lambda: _state(outcome))
    assert fake.files[TOKEN] == [body]
    assert fake.links[TOKEN].attachments[0]["label"] == "pathology"
    result = await outcome()
    assert result["state"] == "received"
    assert result["attachment"]["label"] == "pathology"  # type: ignore[index]


async def _state(outcome: object) -> bool:
    """Whether the upload's outcome is no longer pending."""
    body = await outcome()  # type: ignore[operator]
    return body["state"] in ("received", "refused")  # type: ignore[no-any-return]


async def test_a_wrong_offset_is_a_conflict_and_keeps_the_bytes(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    path = await create(uploads, 100)
    assert (await patch(uploads, path, 0, b"a" * 40)).status == 204
    wrong = await patch(uploads, path, 10, b"b" * 10)
    assert wrong.status == 409
    assert wrong.headers["Upload-Offset"] == "40"
    assert (await uploads.head(path, headers=TUS)).headers["Upload-Offset"] == "40"


async def test_a_patch_without_the_tus_content_type_is_refused(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    path = await create(uploads, 10)
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/octet-stream"}
    assert (await uploads.patch(path, data=b"x" * 10, headers=headers)).status == 415


async def test_another_tus_version_is_refused(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    headers = {"Tus-Resumable": "0.2.2", "Upload-Length": "10"}
    response = await uploads.post(f"/records/{TOKEN}/files/", headers=headers)
    assert response.status == 412
    assert response.headers["Tus-Version"] == "1.0.0"


async def test_unknown_links_are_404_and_expired_or_revoked_ones_410(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    fake, _ = reception
    fake.add_link("expired-link-token-0123456789", state="expired")
    fake.add_link("revoked-link-token-0123456789", state="revoked")
    headers = {**TUS, "Upload-Length": "10"}
    for token, status in [
        ("unknown-link-token-0123456789", 404),
        ("expired-link-token-0123456789", 410),
        ("revoked-link-token-0123456789", 410),
        ("short", 404),
    ]:
        response = await uploads.post(f"/records/{token}/files/", headers=headers)
        assert response.status == status, token
    assert fake.lookups["short"] == 0  # not even a token's shape: reception is not asked


async def test_an_upload_of_a_link_that_expired_since_is_gone(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    path = await create(uploads, 10)
    fake.links[TOKEN].state = "revoked"
    uploads.app[LINKS_KEY].forget(TOKEN)  # as after the few seconds its answer is kept
    assert (await uploads.head(path, headers=TUS)).status == 410
    assert (await patch(uploads, path, 0, b"x" * 10)).status == 410


async def test_an_upload_is_only_reached_through_its_own_link(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    fake.add_link("another-live-link-0123456789")
    path = await create(uploads, 10)
    upload_id = path.rsplit("/", 1)[1]
    other = f"/records/another-live-link-0123456789/files/{upload_id}"
    assert (await uploads.head(other, headers=TUS)).status == 404
    assert (await uploads.head(f"/records/{TOKEN}/files/nonsense", headers=TUS)).status == 404


async def test_an_oversize_file_is_413_before_any_byte_is_read(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    reception[0].add_link(TOKEN)
    headers = {**TUS, "Upload-Length": str(settings.max_file_bytes + 1)}
    response = await uploads.post(f"/records/{TOKEN}/files/", headers=headers)
    assert response.status == 413
    assert await response.text() == "file_too_large"
    assert list(settings.uploads_dir.iterdir()) == []


async def test_a_file_that_would_overfill_the_request_is_413(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN).attachments.append({"size": 600_000, "label": "blood"})
    await create(uploads, 800_000)  # under way: counts against the request too
    headers = {**TUS, "Upload-Length": "200000"}
    response = await uploads.post(f"/records/{TOKEN}/files/", headers=headers)
    assert response.status == 413
    assert await response.text() == "request_too_large"


async def test_a_body_longer_than_the_upload_is_413_before_it_is_read(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    reception[0].add_link(TOKEN)
    path = await create(uploads, 10)
    response = await patch(uploads, path, 0, b"x" * 11)
    assert response.status == 413
    upload_id = path.rsplit("/", 1)[1]
    assert next(settings.uploads_dir.rglob(f"{upload_id}.part")).stat().st_size == 0


async def test_a_file_reception_refuses_is_reported_with_its_code(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    body = b"MZ\x90\x00 an executable"
    path = await create(uploads, len(body))
    await patch(uploads, path, 0, body)

    async def refused() -> bool:
        result = await (await uploads.get(f"{path}/result")).json()
        return result == {"state": "refused", "code": "unsupported_type"}  # type: ignore[no-any-return]

    await until(refused)


async def test_an_unknown_label_is_refused(
    uploads: Client, reception: tuple[FakeReception, str]
) -> None:
    reception[0].add_link(TOKEN)
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(label="x-rays")}
    response = await uploads.post(f"/records/{TOKEN}/files/", headers=headers)
    assert response.status == 400


async def test_termination_deletes_the_bytes(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    reception[0].add_link(TOKEN)
    path = await create(uploads, 100)
    await patch(uploads, path, 0, b"x" * 50)
    assert (await uploads.delete(path, headers=TUS)).status == 204
    assert list(settings.uploads_dir.iterdir()) == []
    assert (await uploads.head(path, headers=TUS)).status == 404


async def test_a_patch_sent_again_while_the_lost_one_still_writes_takes_over(
    uploads: Client, reception: tuple[FakeReception, str], settings: Settings
) -> None:
    """A phone that lost its connection tries again before the server noticed: no waiting."""
    fake, _ = reception
    fake.add_link(TOKEN)
    body = bytes(range(256)) * 1024
    path = await create(uploads, len(body))
    half = len(body) // 2

    async def half_then_silence() -> AsyncIterator[bytes]:
        yield body[:half]
        await asyncio.Event().wait()

    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    lost = asyncio.create_task(uploads.patch(path, data=half_then_silence(), headers=headers))
    part = next(settings.uploads_dir.rglob(f"{path.rsplit('/', 1)[1]}.part"))
    await until(lambda: part.stat().st_size == half)
    offset = int((await uploads.head(path, headers=TUS)).headers["Upload-Offset"])
    again = await patch(uploads, path, offset, body[offset:])
    assert (again.status, again.headers["Upload-Offset"]) == (204, str(len(body)))
    await until(lambda: fake.files.get(TOKEN))
    assert fake.files[TOKEN] == [body]
    lost.cancel()
    with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
        await lost

"""The patient's records at reception: files checked by their bytes, encrypted, listed, erased."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pydicom
import pytest
from sqlalchemy import func, select, update

from contentlib import ContentStore
from reception.appkeys import CONTENT_KEY, RECORDS_KEY, SESSIONMAKER_KEY
from reception.attachments import FileQuarantined, RecordLimits, scanner_for
from reception.models import (
    Attachment,
    RecordKey,
    StaffRole,
    Ticket,
    TicketAction,
    UploadLink,
    utcnow,
)
from reception.queries import Actor, get_ticket
from reception.retention import purge_once, retention_days
from reception.settings import Settings
from tests import record_samples
from tests.clamav import Clamd
from tests.reception.support import (
    Client,
    StaffBrowser,
    add_staff,
    create_ticket,
    error_of,
    serve,
)

ATTACHMENTS = "/api/v1/attachments"
LINKS = "/api/v1/upload-links"
CONVERSATION = {"channel": "telegram", "channel_address": "123456789"}


async def send(
    client: Client, headers: dict[str, str], data: bytes, **query: str
) -> tuple[int, dict[str, Any]]:
    """Send a file for the test conversation; return the status and the JSON answer."""
    response = await client.post(
        ATTACHMENTS,
        params={**CONVERSATION, **query},
        data=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    return response.status, await response.json()


def stored_bytes(settings: Settings) -> bytes:
    """Everything under the files folder, as it lies on disk."""
    root = settings.files_dir
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


async def decrypted(client: Client, ticket_id: int, attachment_id: str) -> bytes:
    """A stored file, decrypted with its ticket's key."""
    records = client.app[RECORDS_KEY]
    async with client.app[SESSIONMAKER_KEY]() as session:
        key = await session.get(RecordKey, ticket_id)
    assert key is not None
    return records.vault.read(ticket_id, attachment_id, key.wrapped)


async def ticket_id_of(client: Client, reference: str) -> int:
    """The database id of a ticket, from its reference."""
    return int(reference.rsplit("-", 1)[1])


async def test_a_pdf_is_kept_encrypted_and_listed_on_the_ticket(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    """A PDF joins the request as a report, ticks the checklist, and lies encrypted on disk."""
    ticket = await create_ticket(client, auth_headers, records={"reports": "not_yet"})
    document = record_samples.pdf("Biopsy of 12 March, Dr Quillfeather")
    status, body = await send(client, auth_headers, document)
    assert status == 201, body
    attachment = body["attachment"]
    assert body["reference"] == ticket["reference"]
    assert attachment["content_type"] == "application/pdf"
    assert attachment["label"] == "reports" and attachment["label_guessed"] is True
    assert attachment["size"] == len(document)
    assert attachment["scan"] == "pending"  # no scanner in these settings
    shown = await (
        await client.get(f"/api/v1/tickets/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert [item["id"] for item in shown["attachments"]] == [attachment["id"]]
    assert shown["records"]["reports"] == "have"
    assert b"Quillfeather" not in stored_bytes(settings)
    assert document not in stored_bytes(settings)
    ticket_id = await ticket_id_of(client, ticket["reference"])
    assert await decrypted(client, ticket_id, attachment["id"]) == document


@pytest.mark.parametrize(
    ("make", "content_type", "label"),
    [
        (record_samples.png, "image/png", "reports"),
        (record_samples.jpeg, "image/jpeg", "reports"),
        (
            record_samples.docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "reports",
        ),
        (
            lambda: record_samples.zipped({"a.dcm": record_samples.dicom()}),
            "application/zip",
            "imaging",
        ),
        (record_samples.dicom, "application/dicom", "imaging"),
    ],
)
async def test_each_accepted_type_is_found_in_its_bytes(
    client: Client, auth_headers: dict[str, str], make: Any, content_type: str, label: str
) -> None:
    """Photos, Word documents, ZIPs and DICOM are recognised from their bytes."""
    await create_ticket(client, auth_headers)
    status, body = await send(client, auth_headers, make())
    assert status == 201, body
    assert body["attachment"]["content_type"] == content_type
    assert body["attachment"]["label"] == label


@pytest.mark.parametrize(
    "name", ["MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"]
)
async def test_compressed_dicom_is_read_with_its_study_and_series(
    client: Client, auth_headers: dict[str, str], name: str
) -> None:
    """Compressed DICOM files are accepted, with their study and series kept for grouping."""
    ticket = await create_ticket(client, auth_headers)
    status, body = await send(client, auth_headers, record_samples.dicom(name))
    assert status == 201, body
    expected = pydicom.dcmread(record_samples.dicom_path(name), stop_before_pixels=True)
    async with client.app[SESSIONMAKER_KEY]() as session:
        stored = await session.get(Attachment, body["attachment"]["id"])
    assert stored is not None and stored.dicom is not None
    assert stored.dicom["series_uid"] == str(expected.SeriesInstanceUID)
    assert stored.dicom["study_uid"] == str(expected.StudyInstanceUID)
    assert ticket["reference"] == body["reference"]


async def test_a_dicom_preamble_that_hides_a_program_is_zeroed(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """The 128 bytes before DICM are zeroed before the file is kept (CVE-2019-11687)."""
    ticket = await create_ticket(client, auth_headers)
    original = record_samples.dicom_with_executable_preamble()
    status, body = await send(client, auth_headers, original)
    assert status == 201, body
    kept = await decrypted(
        client, await ticket_id_of(client, ticket["reference"]), body["attachment"]["id"]
    )
    assert kept[:128] == bytes(128)
    assert kept[128:] == original[128:]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"MZ\x90\x00" + bytes(200), 415, "unsupported_type"),
        (b"#!/bin/sh\necho hello\n", 415, "unsupported_type"),
        (b"", 415, "unsupported_type"),
        (b"%PDF-1.4\n" + bytes(10), 201, None),  # a PDF header is all filetype reads
        (b"PK\x03\x04" + bytes(60), 422, "damaged_file"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00", 422, "damaged_file"),
    ],
)
async def test_files_that_are_not_what_they_claim_are_refused(
    client: Client,
    auth_headers: dict[str, str],
    settings: Settings,
    data: bytes,
    status: int,
    code: str | None,
) -> None:
    """A program, a script, or a broken ZIP or DICOM is refused with its reason; nothing stays."""
    await create_ticket(client, auth_headers)
    answered, body = await send(client, auth_headers, data)
    assert answered == status, body
    if code is not None:
        assert body["error"]["code"] == code
        assert body["error"]["message"]
        assert stored_bytes(settings) == b""


async def test_a_zip_bomb_is_refused(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    """A ZIP that would unpack to far more than it weighs is refused whole."""
    await create_ticket(client, auth_headers)
    bomb = record_samples.zip_bomb()
    assert len(bomb) < 2 * 1024**2
    status, body = await send(client, auth_headers, bomb)
    assert (status, body["error"]["code"]) == (422, "unsafe_archive")
    assert stored_bytes(settings) == b""


@pytest.fixture
async def small_limits(settings: Settings) -> AsyncIterator[Client]:
    """A reception that takes at most 40 KiB per file and 60 KiB per request."""
    limits = RecordLimits(file_bytes=40 * 1024, request_bytes=60 * 1024)
    async with serve(dataclasses.replace(settings, records=limits)) as client:
        yield client


async def test_files_over_the_limits_get_413(
    small_limits: Client, auth_headers: dict[str, str]
) -> None:
    """Over the file limit, or over the request's total, the answer is 413 and nothing is kept."""
    client = small_limits
    ticket = await create_ticket(client, auth_headers)
    status, body = await send(client, auth_headers, record_samples.pdf() + bytes(41 * 1024))
    assert (status, body["error"]["code"]) == (413, "file_too_large")
    padded = record_samples.pdf() + bytes(30 * 1024)
    assert (await send(client, auth_headers, padded))[0] == 201
    status, body = await send(client, auth_headers, padded)
    assert (status, body["error"]["code"]) == (413, "request_too_large")
    shown = await (
        await client.get(f"/api/v1/tickets/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert len(shown["attachments"]) == 1


async def test_a_body_without_its_length_gets_411(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """A file streamed without Content-Length cannot be checked before it is read: 411."""
    await create_ticket(client, auth_headers)

    async def chunks() -> AsyncIterator[bytes]:
        """Yield the file in pieces, so the client sends it chunked."""
        yield record_samples.pdf()

    response = await client.post(
        ATTACHMENTS, params=CONVERSATION, data=chunks(), headers=auth_headers
    )
    assert response.status == 411
    assert (await error_of(response))["code"] == "length_required"


async def test_a_conversation_without_an_open_request_keeps_nothing(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    """No request, or only a closed one: 404, and no file is kept."""
    status, body = await send(client, auth_headers, record_samples.pdf())
    assert (status, body["error"]["code"]) == (404, "no_open_request")
    ticket = await create_ticket(client, auth_headers)
    path = f"/api/v1/tickets/{ticket['reference']}"
    closed = await client.patch(path, json={"status": "cancelled"}, headers=auth_headers)
    assert closed.status == 200
    status, body = await send(client, auth_headers, record_samples.pdf())
    assert (status, body["error"]["code"]) == (404, "no_open_request")
    assert stored_bytes(settings) == b""


async def test_the_patient_can_change_a_files_label(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """A guessed label is confirmed or changed, and the checklist follows."""
    ticket = await create_ticket(client, auth_headers, records={"blood": "not_yet"})
    _, body = await send(client, auth_headers, record_samples.pdf())
    attachment_id = body["attachment"]["id"]
    response = await client.patch(
        f"{ATTACHMENTS}/{attachment_id}",
        params=CONVERSATION,
        json={"label": "blood"},
        headers=auth_headers,
    )
    assert response.status == 200, await response.text()
    changed = (await response.json())["attachment"]
    assert (changed["label"], changed["label_guessed"]) == ("blood", False)
    shown = await (
        await client.get(f"/api/v1/tickets/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert shown["records"]["blood"] == "have"
    elsewhere = await client.patch(
        f"{ATTACHMENTS}/{attachment_id}",
        params={**CONVERSATION, "channel_address": "999"},
        json={"label": "imaging"},
        headers=auth_headers,
    )
    assert elsewhere.status == 404
    history = await client.get(
        f"/api/v1/tickets/{ticket['reference']}/history", headers=auth_headers
    )
    actions = [event["action"] for event in (await history.json())["items"]]
    assert actions.count("file_received") == 1 and actions.count("file_relabelled") == 1


async def test_an_upload_link_works_until_replaced_and_looking_never_uses_it(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """A link can be looked at again and again; a new one replaces it; a file joins through it."""
    ticket = await create_ticket(client, auth_headers, language="nl")
    response = await client.post(LINKS, json=CONVERSATION, headers=auth_headers)
    assert response.status == 201, await response.text()
    link = await response.json()
    assert (link["reference"], link["language"]) == (ticket["reference"], "nl")
    for _ in range(3):
        looked = await client.get(f"{LINKS}/{link['token']}", headers=auth_headers)
        assert looked.status == 200
    sent = await client.post(
        f"{LINKS}/{link['token']}/attachments",
        params={"label": "pathology"},
        data=record_samples.pdf(),
        headers=auth_headers,
    )
    assert sent.status == 201, await sent.text()
    state = await (await client.get(f"{LINKS}/{link['token']}", headers=auth_headers)).json()
    assert [item["label"] for item in state["attachments"]] == ["pathology"]
    newer = await (await client.post(LINKS, json=CONVERSATION, headers=auth_headers)).json()
    replaced = await client.get(f"{LINKS}/{link['token']}", headers=auth_headers)
    assert replaced.status == 410
    assert (await error_of(replaced))["code"] == "link_revoked"
    assert (await client.get(f"{LINKS}/{newer['token']}", headers=auth_headers)).status == 200
    unknown = await client.get(f"{LINKS}/not-a-token", headers=auth_headers)
    assert (unknown.status, (await error_of(unknown))["code"]) == (404, "unknown_link")
    anonymous = await client.get(f"{LINKS}/{newer['token']}")
    assert anonymous.status == 401
    async with client.app[SESSIONMAKER_KEY]() as session:
        hashes = list(await session.scalars(select(UploadLink.token_hash)))
    assert newer["token"] not in hashes and link["token"] not in hashes


async def test_an_expired_or_closed_link_gets_410(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """A link past its days, or of a closed request, adds nothing."""
    ticket = await create_ticket(client, auth_headers)
    link = await (await client.post(LINKS, json=CONVERSATION, headers=auth_headers)).json()
    async with client.app[SESSIONMAKER_KEY]() as session:
        await session.execute(update(UploadLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    expired = await client.post(
        f"{LINKS}/{link['token']}/attachments", data=record_samples.pdf(), headers=auth_headers
    )
    assert (expired.status, (await error_of(expired))["code"]) == (410, "link_expired")
    fresh = await (await client.post(LINKS, json=CONVERSATION, headers=auth_headers)).json()
    path = f"/api/v1/tickets/{ticket['reference']}"
    assert (
        await client.patch(path, json={"status": "cancelled"}, headers=auth_headers)
    ).status == 200
    closed = await client.get(f"{LINKS}/{fresh['token']}", headers=auth_headers)
    assert (closed.status, (await error_of(closed))["code"]) == (410, "link_revoked")


async def test_erasure_destroys_the_files_their_key_and_links(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    """After /delete nothing of the files is left, on disk or in the database."""
    await create_ticket(client, auth_headers)
    for data in (record_samples.pdf(), record_samples.dicom()):
        assert (await send(client, auth_headers, data))[0] == 201
    await client.post(LINKS, json=CONVERSATION, headers=auth_headers)
    assert stored_bytes(settings) != b""
    erased = await client.post("/api/v1/erasures", json=CONVERSATION, headers=auth_headers)
    assert erased.status == 200
    assert stored_bytes(settings) == b""
    async with client.app[SESSIONMAKER_KEY]() as session:
        for table in (Attachment, RecordKey, UploadLink):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


@pytest.fixture
async def scanning(settings: Settings, clamd: Clamd) -> AsyncIterator[Client]:
    """A reception that scans every file with the real clamd."""
    async with serve(dataclasses.replace(settings, clamd_socket=str(clamd.socket))) as client:
        yield client


async def test_an_infected_file_is_quarantined_and_never_opened(
    scanning: Client, auth_headers: dict[str, str]
) -> None:
    """EICAR, alone or zipped, is kept aside: listed as infected, not ticked, never opened."""
    client = scanning
    ticket = await create_ticket(client, auth_headers, records={"reports": "not_yet"})
    status, clean = await send(client, auth_headers, record_samples.pdf())
    assert (status, clean["attachment"]["scan"]) == (201, "clean")
    for infected in (
        record_samples.eicar_pdf(),
        record_samples.zipped({"r.pdf": record_samples.eicar()}),
    ):
        status, body = await send(client, auth_headers, infected, label="blood")
        assert (status, body["attachment"]["scan"]) == (201, "infected"), body
    shown = await (
        await client.get(f"/api/v1/tickets/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert [item["scan"] for item in shown["attachments"]] == ["clean", "infected", "infected"]
    assert "blood" not in shown["records"]
    records = client.app[RECORDS_KEY]
    async with client.app[SESSIONMAKER_KEY]() as session:
        stored = await get_ticket(session, ticket["reference"])
    infected_id = shown["attachments"][1]["id"]
    with pytest.raises(FileQuarantined):
        await records.open(stored, infected_id, Actor.service(), TicketAction.FILE_VIEWED)


async def test_a_file_received_while_the_scanner_is_down_is_scanned_later(
    settings: Settings, auth_headers: dict[str, str], clamd: Clamd, tmp_path: Path
) -> None:
    """With clamd out of reach the file waits as pending; the next pass scans it."""
    down = dataclasses.replace(settings, clamd_socket=str(tmp_path / "no-clamd.sock"))
    async with serve(down) as client:
        await create_ticket(client, auth_headers)
        status, body = await send(client, auth_headers, record_samples.pdf())
        assert (status, body["attachment"]["scan"]) == (201, "pending")
        records = client.app[RECORDS_KEY]
        assert await records.rescan_pending() == 0  # still down: nothing changes
        records.scanner = scanner_for(str(clamd.socket), 10.0)
        assert await records.rescan_pending() == 1
        async with client.app[SESSIONMAKER_KEY]() as session:
            stored = await session.get(Attachment, body["attachment"]["id"])
        assert stored is not None and stored.scan == "clean"


async def test_a_file_sent_twice_under_one_key_is_kept_once(
    client: Client, auth_headers: dict[str, str]
) -> None:
    """A redelivered file (same Idempotency-Key) returns the first one and adds nothing."""
    ticket = await create_ticket(client, auth_headers)
    headers = {**auth_headers, "Idempotency-Key": "telegram-update-42"}
    first = await send(client, headers, record_samples.pdf())
    again = await send(client, headers, record_samples.pdf())
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["attachment"]["id"] == again[1]["attachment"]["id"]
    shown = await (
        await client.get(f"/api/v1/tickets/{ticket['reference']}", headers=auth_headers)
    ).json()
    assert len(shown["attachments"]) == 1


async def test_staff_see_open_and_download_clean_files_only(
    scanning: Client, auth_headers: dict[str, str]
) -> None:
    """The ticket page lists every file; clean ones open or download, audited; others never."""
    client = scanning
    await add_staff(client, "nurse@example.org", StaffRole.RECEPTION)
    staff = StaffBrowser(client)
    try:
        assert (await staff.login("nurse@example.org")).status == 303
        ticket = await create_ticket(client, auth_headers, records={"pathology": "not_yet"})
        document = record_samples.pdf()
        ids = []
        for data, label in (
            (document, "pathology"),
            (record_samples.png(), "reports"),
            (record_samples.eicar_pdf(), "blood"),
        ):
            status, body = await send(client, auth_headers, data, label=label)
            assert status == 201, body
            ids.append(body["attachment"]["id"])
        page = f"/inbox/tickets/{ticket['reference']}"
        response, html = await staff.get(page)
        assert response.status == 200
        assert html.count('class="file scan-') == 3
        assert "Quarantined" in html and "files received" in html
        assert f"{page}/files/{ids[1]}" in html  # the photo is shown in the page
        shown = await staff.session.get(f"{page}/files/{ids[0]}")
        assert shown.status == 200 and shown.content_type == "application/pdf"
        assert await shown.read() == document
        assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
        assert shown.headers["Content-Disposition"].startswith("inline")
        downloaded = await staff.session.get(f"{page}/files/{ids[0]}/download")
        assert downloaded.headers["Content-Disposition"] == (
            f'attachment; filename="{ticket["reference"]}-pathology-1.pdf"'
        )
        assert await downloaded.read() == document
        refused = await staff.session.get(f"{page}/files/{ids[2]}/download")
        assert refused.status == 403
        missing = await staff.session.get(f"{page}/files/{uuid.uuid4()}")
        assert missing.status == 404
        history = await client.get(
            f"/api/v1/tickets/{ticket['reference']}/history", headers=auth_headers
        )
        actions = [event["action"] for event in (await history.json())["items"]]
        assert actions.count("file_viewed") == 1
        assert actions.count("file_downloaded") == 1
        stranger = await client.get(f"{page}/files/{ids[0]}", allow_redirects=False)
        assert stranger.status == 303 and "/login" in stranger.headers["Location"]
    finally:
        await staff.close()


async def test_retention_destroys_the_files_of_requests_closed_long_ago(
    client: Client, auth_headers: dict[str, str], settings: Settings
) -> None:
    """When a closed request's retention ends, its files' key goes, and then the files."""
    ticket = await create_ticket(client, auth_headers)
    assert (await send(client, auth_headers, record_samples.pdf()))[0] == 201
    path = f"/api/v1/tickets/{ticket['reference']}"
    assert (
        await client.patch(path, json={"status": "cancelled"}, headers=auth_headers)
    ).status == 200
    sessionmaker = client.app[SESSIONMAKER_KEY]
    async with sessionmaker() as session:
        await session.execute(
            update(Ticket).values(closed_at=utcnow() - timedelta(days=settings_days(settings) + 1))
        )
        await session.commit()
    assert await purge_once(
        sessionmaker, settings.retention_days, client.app[CONTENT_KEY].store
    ) == [ticket["reference"]]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RecordKey)) == 0
    assert stored_bytes(settings) != b""  # unreadable already; the sweep deletes them
    assert await client.app[RECORDS_KEY].sweep() == 1
    assert stored_bytes(settings) == b""


def settings_days(settings: Settings) -> int:
    """The retention period the test reception follows: the privacy notice's."""
    return retention_days(settings.retention_days, ContentStore(settings.content_dir))


async def test_the_ticket_page_groups_dicom_by_study_with_a_thumbnail(
    scanning: Client, auth_headers: dict[str, str]
) -> None:
    """A CT slice shows as its study and series, with a thumbnail that opens the viewer."""
    client = scanning
    await add_staff(client, "radiology@example.org", StaffRole.RECEPTION)
    staff = StaffBrowser(client)
    try:
        assert (await staff.login("radiology@example.org")).status == 303
        ticket = await create_ticket(client, auth_headers)
        status, body = await send(client, auth_headers, record_samples.dicom())
        assert status == 201, body
        header = pydicom.dcmread(record_samples.dicom_path(), stop_before_pixels=True)
        page = f"/inbox/tickets/{ticket['reference']}"
        _, html = await staff.get(page)
        assert 'id="studies-heading"' in html
        viewer = f"{page}/series/{header.SeriesInstanceUID}"
        assert f'href="{viewer}"' in html
        thumbnail = f"{page}/files/{body['attachment']['id']}/thumbnail.png"
        assert f'src="{thumbnail}"' in html
        picture = await staff.session.get(thumbnail)
        assert picture.status == 200 and (await picture.read()).startswith(b"\x89PNG")
        opened, _ = await staff.get(viewer)
        assert opened.status == 200
    finally:
        await staff.close()

"""The DICOM viewer of the inbox: real files from pydicom's wheel, drawn on the server, grouped
into studies and series, scrolled through, and downloaded as the originals, each time audited.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from markupsafe import escape
from PIL import Image
from pydicom.encaps import encapsulate, generate_frames
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, update

from reception import wording
from reception.appkeys import SESSIONMAKER_KEY
from reception.dicom_render import (
    CannotDecode,
    Drawing,
    NoImage,
    NoSuchFrame,
    Size,
    Window,
    render,
)
from reception.dicom_studies import DICOM, same_person, studies
from reception.dicom_views import NameCheck
from reception.models import Attachment, StaffRole, TicketEvent
from tests import record_samples
from tests.accessibility import assert_accessible
from tests.browser import start_chromium
from tests.reception.support import PASSWORD, Client, StaffBrowser, add_staff, create_ticket

ATTACHMENTS = "/api/v1/attachments"
CONVERSATION = {"channel": "telegram", "channel_address": "123456789"}
COMPRESSED = ["MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm"]
DICOMDIR = record_samples.dicom_path().parent / "dicomdirtests"
# Doe^Peter's MR angiography: 7 slices, instances 1 to 7, sent out of order.
MR700 = [
    DICOMDIR / "98892003" / "MR700" / name
    for name in ("4648", "4467", "4528", "4678", "4558", "4618", "4588")
]
# Doe^Archibald's CT head: instances 180, 18, 182, 181.
CT2 = [DICOMDIR / "77654033" / "CT2" / name for name in ("17136", "17106", "17196", "17166")]
CR3 = DICOMDIR / "77654033" / "CR3" / "6278"  # a MONOCHROME1 radiograph
# Files of a series with no pixels: instances 2, 10, 1, 0, 19 (in number order, not text order).
TINY = DICOMDIR / "TINY_ALPHA" / "PT000000" / "ST000000" / "SE000000"
TINY_FILES = [TINY / name for name in ("IM000002", "IM00000A", "IM000001", "IM000000", "IM00000J")]
DATA_INSTANCE = re.compile(r'<li data-id="([^"]+)" data-frame="1" data-instance="([^"]*)"')


async def send(client: Client, headers: dict[str, str], data: bytes) -> dict[str, Any]:
    """Send a file for the test conversation's request; return the attachment."""
    response = await client.post(
        ATTACHMENTS,
        params=CONVERSATION,
        data=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert response.status == 201, await response.text()
    return dict((await response.json())["attachment"])


async def send_all(
    client: Client, headers: dict[str, str], paths: list[Path]
) -> list[dict[str, Any]]:
    """Send several files, one after the other."""
    return [await send(client, headers, path.read_bytes()) for path in paths]


async def mark_scanned(client: Client, scan: str = "clean") -> None:
    """Say every file was scanned (these tests run without clamd; test_records runs with it)."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        await session.execute(update(Attachment).values(scan=scan))
        await session.commit()


async def series_uid_of(client: Client, attachment_id: str) -> str:
    """The series UID kept for a file."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        stored = await session.get(Attachment, attachment_id)
    assert stored is not None and stored.dicom is not None
    return str(stored.dicom["series_uid"])


async def events(
    client: Client, headers: dict[str, str], reference: str, action: str
) -> list[dict[str, Any]]:
    """The ticket's audit events of one action."""
    response = await client.get(f"/api/v1/tickets/{reference}/history", headers=headers)
    return [event for event in (await response.json())["items"] if event["action"] == action]


async def fetch(browser: StaffBrowser, path: str) -> tuple[int, str, bytes]:
    """Fetch a path as the signed-in member of staff: status, content type, body."""
    async with browser.session.get(path, allow_redirects=False) as response:
        return response.status, response.content_type, await response.read()


def picture(data: bytes) -> Image.Image:
    """Open a PNG, checking that it is one."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def spread(image: Image.Image) -> float:
    """How much an image's pixels vary: 0 for a blank one."""
    return float(np.asarray(image.convert("L"), dtype=np.float64).std())


@pytest.mark.parametrize("name", ["CT_small.dcm", *COMPRESSED])
async def test_a_thumbnail_is_a_real_picture_of_the_scan(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, name: str
) -> None:
    """CT_small and each compressed MR (JPEG 2000, RLE, JPEG-LS) give a PNG that is not blank."""
    ticket = await create_ticket(client, auth_headers)
    attachment = await send(client, auth_headers, record_samples.dicom(name))
    await mark_scanned(client)
    base = f"/inbox/tickets/{ticket['reference']}/files/{attachment['id']}"
    async with browser.session.get(f"{base}/thumbnail.png") as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "image/png"
        assert response.headers["Cache-Control"] == "private, no-store"
        thumbnail = picture(await response.read())
    assert max(thumbnail.size) == Size.THUMBNAIL
    assert spread(thumbnail) > 0
    status, kind, body = await fetch(browser, f"{base}/slice.png")
    assert (status, kind) == (200, "image/png")
    full = picture(body)
    assert max(full.size) == Size.FULL and spread(full) > 0


async def test_each_window_draws_a_different_picture(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """Soft tissue, lung, bone and the file's own range each show the CT differently."""
    ticket = await create_ticket(client, auth_headers)
    attachment = await send(client, auth_headers, record_samples.dicom())
    await mark_scanned(client)
    base = f"/inbox/tickets/{ticket['reference']}/files/{attachment['id']}/slice.png"
    drawn = {}
    for window in Window:
        status, _, body = await fetch(browser, f"{base}?window={window.value}")
        assert status == 200
        drawn[window] = np.asarray(picture(body), dtype=np.int16)
    for one in Window:
        for other in Window:
            if one < other:
                assert np.abs(drawn[one] - drawn[other]).mean() > 1, (one, other)
    _, _, unknown = await fetch(browser, f"{base}?window=sepia")
    assert np.array_equal(np.asarray(picture(unknown)), drawn[Window.DEFAULT])


def test_the_lung_window_shows_air_and_the_bone_window_hides_soft_tissue() -> None:
    """The presets place the CT's values where a radiologist expects them."""
    data = record_samples.dicom()
    dataset = pydicom.dcmread(io.BytesIO(data))
    hounsfield = dataset.pixel_array * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
    native = 128  # CT_small's size: no scaling
    lung = np.asarray(picture(render([data], Drawing(Window.LUNG, size=native))))
    bone = np.asarray(picture(render([data], Drawing(Window.BONE, size=native))))
    soft_tissue = (hounsfield > 20) & (hounsfield < 60)
    assert soft_tissue.any()
    assert lung[soft_tissue].mean() > 200  # well above lung's level (-600): bright
    expected = np.clip((hounsfield - (400 - 900)) / 1800, 0, 1) * 255
    assert np.abs(bone.astype(float) - expected).max() <= 1


def test_monochrome1_is_inverted() -> None:
    """A MONOCHROME1 radiograph draws as the negative of the same pixels read as MONOCHROME2."""
    data = CR3.read_bytes()
    dataset = pydicom.dcmread(io.BytesIO(data))
    assert dataset.PhotometricInterpretation == "MONOCHROME1"
    dataset.PhotometricInterpretation = "MONOCHROME2"
    flipped = io.BytesIO()
    dataset.save_as(flipped)
    as_stored = np.asarray(picture(render([data], Drawing())), dtype=np.int16)
    as_positive = np.asarray(picture(render([flipped.getvalue()], Drawing())), dtype=np.int16)
    assert spread(Image.fromarray(as_stored.astype(np.uint8))) > 0
    assert np.abs(as_stored + as_positive - 255).max() <= 1


def test_a_multi_frame_file_draws_the_frame_asked_for() -> None:
    """Each frame of a multi-frame file is its own picture; a frame past the end is refused."""
    data = (record_samples.dicom_path().parent / "rtdose.dcm").read_bytes()
    frames = [np.asarray(picture(render([data], Drawing(frame=index)))) for index in (0, 7, 14)]
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])
    with pytest.raises(NoSuchFrame) as refused:
        render([data], Drawing(frame=15))
    assert refused.value.data == {"frames": 15}


def test_colour_passes_through_as_rgb() -> None:
    """An RGB ultrasound stays in colour, its pixels as the file has them, whatever the window."""
    data = (record_samples.dicom_path().parent / "examples_rgb_color.dcm").read_bytes()
    dataset = pydicom.dcmread(io.BytesIO(data))
    longer = max(dataset.Rows, dataset.Columns)
    drawn = picture(render([data], Drawing(size=longer)))
    assert drawn.mode == "RGB"
    assert np.array_equal(np.asarray(drawn), dataset.pixel_array)
    lung = picture(render([data], Drawing(Window.LUNG, size=longer)))
    assert np.array_equal(np.asarray(lung), np.asarray(drawn))


def damaged_jpeg_2000() -> bytes:
    """The JPEG 2000 MR with its code stream zeroed after its first bytes: a valid header."""
    dataset = pydicom.dcmread(record_samples.dicom_path("MR_small_jp2klossless.dcm"))
    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([frame[:20] + bytes(len(frame) - 20)])
    saved = io.BytesIO()
    dataset.save_as(saved)
    return saved.getvalue()


def test_files_without_a_picture_say_why() -> None:
    """A DICOMDIR holds no image; a damaged code stream cannot be decoded."""
    with pytest.raises(NoImage):
        render([(DICOMDIR / "DICOMDIR").read_bytes()], Drawing())
    with pytest.raises(CannotDecode):
        render([damaged_jpeg_2000()], Drawing())
    assert wording.text(NoImage.code)


async def test_the_series_page_scrolls_through_the_slices_in_instance_order(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """The slices are listed by instance number, with the scroller, the presets, the script."""
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, MR700)
    await mark_scanned(client)
    series_uid = await series_uid_of(client, sent[0]["id"])
    path = f"/inbox/tickets/{ticket['reference']}/series/{series_uid}"
    response, page = await browser.get(f"{path}?slice=3&window=soft")
    assert response.status == 200, page
    listed = DATA_INSTANCE.findall(page)
    assert [instance for _, instance in listed] == [str(number) for number in range(1, 8)]
    by_instance = {
        str(pydicom.dcmread(file, stop_before_pixels=True).InstanceNumber): each["id"]
        for file, each in zip(MR700, sent, strict=True)
    }
    assert [attachment_id for attachment_id, _ in listed] == [
        by_instance[str(n)] for n in range(1, 8)
    ]
    assert re.search(
        r'<input type="range" id="dicom-slice" name="slice" min="1" max="7" step="1" value="3"',
        page,
    )
    assert f"/files/{by_instance['3']}/slice.png?window=soft" in page
    for window in Window:
        assert f'name="window" value="{window.value}"' in page
    assert re.search(r'value="soft" class="dicom-window" aria-pressed="true"', page)
    assert '<script src="/static/dicom_viewer.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\ssrc=)(?![^>]*application/json)", page), (
        "no inline script"
    )
    assert f'href="{path}/originals.zip"' in page
    script = await client.get("/static/dicom_viewer.js")
    assert script.status == 200 and "ArrowDown" in await script.text()


async def test_instance_numbers_sort_as_numbers(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """Instances 0, 1, 2, 10 and 19 come in that order, not as text would sort them."""
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, TINY_FILES)
    await mark_scanned(client)
    series_uid = await series_uid_of(client, sent[0]["id"])
    _, page = await browser.get(f"/inbox/tickets/{ticket['reference']}/series/{series_uid}")
    assert [instance for _, instance in DATA_INSTANCE.findall(page)] == ["0", "1", "2", "10", "19"]
    status, _, body = await fetch(
        browser, f"/inbox/tickets/{ticket['reference']}/files/{sent[0]['id']}/thumbnail.png"
    )
    assert status == 422
    assert wording.text("dicom_no_image").split(" (")[0] in body.decode()


async def test_a_multi_frame_file_scrolls_frame_by_frame(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """A file of 15 frames is 15 pictures in the viewer, each drawn on its own."""
    ticket = await create_ticket(client, auth_headers)
    dose = await send(
        client, auth_headers, (record_samples.dicom_path().parent / "rtdose.dcm").read_bytes()
    )
    await mark_scanned(client)
    series_uid = await series_uid_of(client, dose["id"])
    _, page = await browser.get(
        f"/inbox/tickets/{ticket['reference']}/series/{series_uid}?slice=15"
    )
    assert re.findall(r'data-frame="(\d+)"', page) == [str(frame) for frame in range(1, 16)]
    assert 'max="15"' in page
    assert wording.text("dicom_slice_caption", number=15, total=15, instance=None, frame=15) in page
    assert f"/files/{dose['id']}/slice.png?window=default&amp;frame=15" in page
    files = f"/inbox/tickets/{ticket['reference']}/files/{dose['id']}"
    first, last = [
        picture((await fetch(browser, f"{files}/slice.png?frame={n}"))[2]) for n in (1, 15)
    ]
    assert not np.array_equal(np.asarray(first), np.asarray(last))
    status, _, _ = await fetch(browser, f"{files}/thumbnail.png?frame=16")
    assert status == 404


@pytest.mark.parametrize(
    ("contact", "warned"),
    [("Ada Example", True), ("peter DOE", False), ("Pétér  Doe", False), ("Peter Doering", True)],
)
async def test_the_page_warns_when_the_files_name_another_patient(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, contact: str, warned: bool
) -> None:
    """Doe^Peter's images on a ticket for someone else carry a warning beside both names."""
    ticket = await create_ticket(
        client, auth_headers, contact={"name": contact, "phone": "+32 470 12 34 56"}
    )
    sent = await send_all(client, auth_headers, MR700[:2])
    await mark_scanned(client)
    series_uid = await series_uid_of(client, sent[0]["id"])
    _, page = await browser.get(f"/inbox/tickets/{ticket['reference']}/series/{series_uid}")
    assert re.search(r'id="dicom-patient-name">Doe\^Peter<', page)
    assert f'id="ticket-contact-name">{contact}<' in page
    assert ('id="dicom-name-warning"' in page) is warned
    assert (wording.table("dicom_words")["names_differ_title"] in page) is warned


@pytest.mark.parametrize("language", ["fr", "nl"])
async def test_the_series_page_speaks_the_staff_member_s_language(
    client: Client, auth_headers: dict[str, str], language: str
) -> None:
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, CT2[:2])
    await mark_scanned(client, "clean")
    async with client.app[SESSIONMAKER_KEY]() as session:
        await session.execute(
            update(Attachment).where(Attachment.id == sent[1]["id"]).values(scan="pending")
        )
        await session.commit()
    await add_staff(client, f"{language}@example.org", StaffRole.RECEPTION, language=language)
    reader = StaffBrowser(client)
    try:
        assert (await reader.login(f"{language}@example.org")).status == 303
        series_uid = await series_uid_of(client, sent[0]["id"])
        response, page = await reader.get(
            f"/inbox/tickets/{ticket['reference']}/series/{series_uid}"
        )
    finally:
        await reader.close()
    assert response.status == 200, page
    with wording.speaking(language):
        words = wording.table("dicom_words")
        assert words["names_differ_title"] in page and words["download"] in page
        assert wording.table("dicom_windows")["lung"] in page
        assert str(escape(wording.text("dicom_originals_hint", count=1, total=2))) in page


def test_names_are_compared_word_by_word() -> None:
    assert same_person("DOE^PETER", "Peter Doe") is True
    assert same_person("Doe^Peter^^Dr", "dr peter doe") is True
    assert same_person("Müller^Jürgen", "Jurgen MULLER") is True
    assert same_person("Doe^Peter", "Peter Doe-Smith") is False
    assert same_person("Doe^Peter", "Petra Doe") is False
    assert same_person(None, "Peter Doe") is None
    assert same_person("Doe^Peter", None) is None
    assert same_person("Yamada^Tarou=山田^太郎", "Tarou Yamada") is True


def test_files_that_name_two_patients_are_a_difference_too() -> None:
    assert NameCheck(["Doe^Peter", "Roe^Richard"], None).differs
    assert NameCheck(["Doe^Peter", "Roe^Richard"], "Peter Doe").differs
    assert not NameCheck(["Doe^Peter", "DOE^PETER"], "Peter Doe").differs
    assert not NameCheck(["Doe^Peter"], None).differs
    assert not NameCheck([], "Peter Doe").differs


async def test_the_originals_are_a_zip_of_the_files_as_stored(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """The ZIP holds each file's bytes in instance order, the preamble zeroed as it is kept."""
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, CT2)
    await mark_scanned(client)
    series_uid = await series_uid_of(client, sent[0]["id"])
    path = f"/inbox/tickets/{ticket['reference']}/series/{series_uid}/originals.zip"
    async with browser.session.get(path) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/zip"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "private, no-store"
        body = await response.read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        contents = [archive.read(name) for name in names]
    assert names == ["0001.dcm", "0002.dcm", "0003.dcm", "0004.dcm"]
    by_instance = sorted(CT2, key=lambda file: int(pydicom.dcmread(file).InstanceNumber))
    assert contents == [bytes(128) + file.read_bytes()[128:] for file in by_instance]
    downloaded = await events(client, auth_headers, ticket["reference"], "file_downloaded")
    assert [(event["actor"], event["new_value"]) for event in downloaded] == [
        ("reception@example.org", f"imaging {DICOM} 4")
    ]


async def test_viewing_is_audited_once_per_page_not_per_image(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    """The series page is one view; its images add none until a quarter of an hour later."""
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, MR700)
    await mark_scanned(client)
    reference = ticket["reference"]
    series_uid = await series_uid_of(client, sent[0]["id"])
    await browser.get(f"/inbox/tickets/{reference}/series/{series_uid}")
    for each in sent:
        for image in ("thumbnail.png", "slice.png?window=lung", "slice.png"):
            status, _, _ = await fetch(
                browser, f"/inbox/tickets/{reference}/files/{each['id']}/{image}"
            )
            assert status == 200
    viewed = await events(client, auth_headers, reference, "file_viewed")
    assert [(event["actor"], event["new_value"]) for event in viewed] == [
        ("reception@example.org", f"imaging {DICOM} 7")
    ]
    async with client.app[SESSIONMAKER_KEY]() as session:
        for event in await session.scalars(
            select(TicketEvent).where(TicketEvent.action == "file_viewed")
        ):
            event.at -= timedelta(minutes=16)
        await session.commit()
    status, _, _ = await fetch(
        browser, f"/inbox/tickets/{reference}/files/{sent[0]['id']}/slice.png"
    )
    assert status == 200
    viewed = await events(client, auth_headers, reference, "file_viewed")
    assert [event["new_value"] for event in viewed] == [f"imaging {DICOM} 7", f"imaging {DICOM} 1"]


@pytest.mark.parametrize("scan", ["pending", "infected"])
async def test_a_file_not_passed_by_the_scan_is_refused_clearly(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, scan: str
) -> None:
    """No picture and no ZIP of a file the virus scan has not passed: a page that says so."""
    ticket = await create_ticket(client, auth_headers)
    sent = await send_all(client, auth_headers, MR700[:2])
    await mark_scanned(client, scan)
    reference = ticket["reference"]
    series_uid = await series_uid_of(client, sent[0]["id"])
    for image in ("thumbnail.png", "slice.png"):
        status, kind, body = await fetch(
            browser, f"/inbox/tickets/{reference}/files/{sent[0]['id']}/{image}"
        )
        assert (status, kind) == (403, "text/html")
        assert wording.text("file_quarantined").split(",")[0] in body.decode()
    status, _, body = await fetch(
        browser, f"/inbox/tickets/{reference}/series/{series_uid}/originals.zip"
    )
    assert status == 403 and wording.text("file_quarantined").split(",")[0] in body.decode()
    response, page = await browser.get(f"/inbox/tickets/{reference}/series/{series_uid}")
    assert response.status == 200
    assert wording.table("file_scans")[scan] in page
    assert 'id="dicom-originals"' not in page
    assert 'src="/inbox/tickets' not in page  # no image is asked for
    assert await events(client, auth_headers, reference, "file_downloaded") == []


async def test_what_is_not_there_gets_404_and_what_is_not_an_image_422(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    ticket = await create_ticket(client, auth_headers)
    reference = ticket["reference"]
    ct = await send(client, auth_headers, record_samples.dicom())
    pdf = await send(client, auth_headers, record_samples.pdf())
    damaged = await send(client, auth_headers, damaged_jpeg_2000())
    await mark_scanned(client)
    files = f"/inbox/tickets/{reference}/files"
    nowhere = "00000000-0000-0000-0000-000000000000"
    answers = {
        f"{files}/{nowhere}/thumbnail.png": 404,
        f"{files}/{ct['id']}/slice.png?frame=2": 404,
        f"{files}/{pdf['id']}/slice.png": 422,
        f"{files}/{damaged['id']}/thumbnail.png": 422,
        f"/inbox/tickets/{reference}/series/1.2.3": 404,
        f"/inbox/tickets/{reference}/series/1.2.3/originals.zip": 404,
        f"/inbox/tickets/SO-2026-99999/files/{ct['id']}/slice.png": 404,
        f"{files}/{ct['id']}/slice.png?frame=1": 200,
    }
    for path, expected in answers.items():
        status, kind, _ = await fetch(browser, path)
        assert status == expected, path
        assert kind == ("image/png" if expected == 200 else "text/html"), path
    other = await create_ticket(client, auth_headers, channel_address="555")
    status, _, _ = await fetch(
        browser, f"/inbox/tickets/{other['reference']}/files/{ct['id']}/slice.png"
    )
    assert status == 404, "a file is only seen through its own ticket"


async def test_strangers_and_roles_that_do_not_work_tickets_see_no_image(
    client: Client, auth_headers: dict[str, str]
) -> None:
    ticket = await create_ticket(client, auth_headers)
    ct = await send(client, auth_headers, record_samples.dicom())
    await mark_scanned(client)
    series_uid = await series_uid_of(client, ct["id"])
    base = f"/inbox/tickets/{ticket['reference']}"
    paths = [
        f"{base}/files/{ct['id']}/thumbnail.png",
        f"{base}/files/{ct['id']}/slice.png",
        f"{base}/series/{series_uid}",
        f"{base}/series/{series_uid}/originals.zip",
    ]
    for path in paths:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next=")
    await add_staff(client, "editor@example.org", StaffRole.EDITOR)
    editor = StaffBrowser(client)
    try:
        assert (await editor.login("editor@example.org")).status == 303
        for path in paths:
            status, kind, _ = await fetch(editor, path)
            assert (status, kind) == (403, "text/html"), path
    finally:
        await editor.close()
    async with client.app[SESSIONMAKER_KEY]() as session:
        assert list(
            await session.scalars(
                select(TicketEvent.action).where(TicketEvent.action.like("file_%"))
            )
        ) == ["file_received"]


def stored(
    attachment_id: str, study: str, series: str, instance: str | None, **fields: Any
) -> Attachment:
    """An attachment as reception lists it, with the DICOM header fields given."""
    header = {
        "patient_name": "Doe^Peter",
        "study_uid": study,
        "study_description": f"study {study}",
        "series_uid": series,
        "series_description": f"series {series}",
        "modality": "CT",
        "instance": instance,
        **fields,
    }
    return Attachment(
        id=attachment_id,
        ticket_id=1,
        label="imaging",
        content_type=DICOM,
        size=1,
        scan="clean",
        dicom=header,
    )


def test_studies_group_the_files_by_study_then_series() -> None:
    files = [
        stored("a", "1", "1.1", "2"),
        stored("b", "2", "2.1", "1"),
        stored("c", "1", "1.1", "10"),
        stored("d", "1", "1.2", None),
        stored("e", "1", "1.1", "1", patient_name="Roe^Richard"),
        Attachment(
            id="f",
            ticket_id=1,
            label="reports",
            content_type="application/pdf",
            size=1,
            scan="clean",
        ),
        stored("g", "1", None, "1"),  # a DICOMDIR: in no series
        stored("h", "1", "1.2", "3"),
    ]
    files[0].scan = "pending"
    found = studies(files)
    assert [(study.uid, study.description, study.count) for study in found] == [
        ("1", "study 1", 5),
        ("2", "study 2", 1),
    ]
    first = found[0]
    assert [
        (series.uid, series.description, series.modality, series.count) for series in first.series
    ] == [
        ("1.1", "series 1.1", "CT", 3),
        ("1.2", "series 1.2", "CT", 2),
    ]
    assert [each.id for each in first.series[0].slices] == ["e", "a", "c"]
    assert [each.id for each in first.series[1].slices] == ["h", "d"]
    assert (first.series[0].first_slice_id, first.series[0].thumbnail_id) == ("e", "e")
    assert first.series[0].patient_names == ["Roe^Richard", "Doe^Peter"]
    assert first.series[0].viewable == 2  # "a" is not scanned yet
    files[4].scan = "infected"
    again = studies(files)[0].series[0]
    assert (again.first_slice_id, again.thumbnail_id, again.viewable) == ("e", "c", 1)
    files[2].scan = "pending"
    assert studies(files)[0].series[0].thumbnail_id is None


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Debian's Chromium, as tests/browser.py starts it (that fixture's name is taken here)."""
    session = start_chromium(tmp_path_factory.mktemp("chromium"))
    yield session
    session.quit()


def sign_in(chromium: webdriver.Chrome, url: str, email: str) -> None:
    """Log in to the app served in this test, with the keyboard."""
    chromium.get(f"{url}/login")
    chromium.find_element(By.ID, "email").send_keys(email, Keys.TAB, PASSWORD, Keys.ENTER)
    WebDriverWait(chromium, 15).until(lambda b: "/login" not in b.current_url)


def shown_slice(chromium: webdriver.Chrome) -> tuple[str, str]:
    """The caption under the image, and the image's address once it has loaded (else '')."""
    loaded = chromium.execute_script(
        "const image = document.getElementById('dicom-image');"
        "return image.complete && image.naturalWidth > 0 ? image.currentSrc : '';"
    )
    return chromium.find_element(By.ID, "dicom-caption").text, str(loaded)


def scroll_through(chromium: webdriver.Chrome, page: str, ids: list[str]) -> dict[str, bytes]:
    """Open the series, scroll down with the wheel and the keys, change the window; screenshots."""
    wait = WebDriverWait(chromium, 15)
    chromium.get(page)
    wait.until(
        lambda b: shown_slice(b)[1].endswith(f"/files/{ids[0]}/slice.png?window=default&frame=1")
    )
    assert chromium.find_element(By.ID, "dicom-name-warning").is_displayed()
    shots = {
        "top": chromium.get_screenshot_as_png(),
        "first": chromium.find_element(By.ID, "dicom-image").screenshot_as_png,
    }
    viewport = chromium.find_element(By.ID, "dicom-viewport")
    ActionChains(chromium).scroll_from_origin(ScrollOrigin.from_element(viewport), 0, 120).perform()
    wait.until(lambda b: f"/files/{ids[1]}/" in shown_slice(b)[1])
    viewport.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    wait.until(lambda b: f"/files/{ids[3]}/" in shown_slice(b)[1])
    assert "4" in shown_slice(chromium)[0]
    assert chromium.find_element(By.ID, "dicom-slice").get_attribute("value") == "4"
    viewport.send_keys(Keys.END)
    wait.until(lambda b: f"/files/{ids[-1]}/" in shown_slice(b)[1])
    chromium.find_element(By.CSS_SELECTOR, 'button.dicom-window[value="lung"]').click()
    wait.until(
        lambda b: shown_slice(b)[1].endswith(f"/files/{ids[-1]}/slice.png?window=lung&frame=1")
    )
    assert "slice=7" in chromium.current_url and "window=lung" in chromium.current_url
    shots["scrolled"] = chromium.find_element(By.ID, "dicom-image").screenshot_as_png
    shots["page"] = chromium.get_screenshot_as_png()
    assert_accessible(chromium)
    return shots


@pytest.mark.browser
async def test_the_viewer_scrolls_in_chromium(
    client: Client, auth_headers: dict[str, str], chromium: webdriver.Chrome, tmp_path: Path
) -> None:
    """A series scrolled with the wheel and the keys in headless Chromium shows real pictures."""
    await add_staff(client, "viewer@example.org", StaffRole.RECEPTION)
    ticket = await create_ticket(
        client, auth_headers, contact={"name": "Ada Example", "phone": "+32 470 12 34 56"}
    )
    sent = await send_all(client, auth_headers, MR700)
    await mark_scanned(client)
    series_uid = await series_uid_of(client, sent[0]["id"])
    by_instance = sorted(
        zip(MR700, sent, strict=True), key=lambda pair: int(pydicom.dcmread(pair[0]).InstanceNumber)
    )
    ids = [each["id"] for _, each in by_instance]
    url = str(client.make_url("")).rstrip("/")
    await asyncio.to_thread(sign_in, chromium, url, "viewer@example.org")
    page = f"{url}/inbox/tickets/{ticket['reference']}/series/{series_uid}"
    shots = await asyncio.to_thread(scroll_through, chromium, page, ids)
    for name, shot in shots.items():
        (tmp_path / f"{name}.png").write_bytes(shot)
        assert spread(picture(shot)) > 0, name
    assert not np.array_equal(
        np.asarray(picture(shots["first"])), np.asarray(picture(shots["scrolled"]))
    )

"""The DICOM viewer of the staff inbox: slices drawn on the server, a series page, the originals.

Only staff whose role works tickets see the patients' images. What is audited, and how often:
- the series page records one `file_viewed` per page view, for the whole series;
- a thumbnail or a slice records `file_viewed` only when the same member of staff has none on
  the ticket in the last AUDIT_QUIET minutes, so a page's many images add nothing, and an image
  opened on its own is still audited;
- the originals' ZIP records one `file_downloaded` for the series.
The events name the label, the type and the number of files, never a file's content or name.
"""

from __future__ import annotations

import asyncio
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select

from . import queries, wording
from .appkeys import RECORDS_KEY, SESSIONMAKER_KEY
from .attachments import FileQuarantined, NoSuchAttachment, Records
from .dicom_render import (
    PRESETS,
    CannotDecode,
    Drawing,
    NoImage,
    NoSuchFrame,
    Size,
    Window,
    frames_in,
    render,
)
from .dicom_studies import DICOM, Series, Slice, same_person, series_of
from .models import Attachment, Ticket, TicketAction, TicketEvent, utcnow
from .pages import error_page, ticket_not_found_page
from .pages import render as render_page
from .staff_auth import Staff, require_staff, require_ticket_work
from .vault import FileUnreadable
from .wording import CodedError

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

AUDIT_QUIET = timedelta(minutes=15)
# A series of more files than this is taken as one picture a file, as CT and MR stacks are;
# the files of a smaller one are opened (their headers only) to find multi-frame ones.
PEEK_FILES = 32
IMAGE_HEADERS = {"Cache-Control": "private, no-store"}
MOST_FRAMES = 100_000
ZIP_LEVEL = 6


class NotDicom(CodedError, ValueError):
    """The file asked for as an image is not a DICOM file."""

    code = "dicom_not_dicom"


class NoSuchSeries(CodedError, LookupError):
    """The ticket has no DICOM series with this UID."""

    code = "dicom_no_such_series"


REFUSALS: dict[type[CodedError], int] = {
    NoSuchAttachment: 404,
    NoSuchSeries: 404,
    NoSuchFrame: 404,
    FileQuarantined: 403,
    NotDicom: 422,
    NoImage: 422,
    CannotDecode: 422,
    FileUnreadable: 422,
}


UNDRAWABLE = (
    NoSuchAttachment,
    FileQuarantined,
    NotDicom,
    NoSuchFrame,
    NoImage,
    CannotDecode,
    FileUnreadable,
)


@dataclass(frozen=True)
class NameCheck:
    """The patient names the files give, beside the ticket's, and whether they differ."""

    in_files: list[str]
    on_ticket: str | None

    @property
    def differs(self) -> bool:
        """Tell whether a name in the files is not the ticket's, or the files disagree."""
        names = self.in_files
        against = [self.on_ticket, *names[:1]]
        return any(same_person(name, other) is False for name in names for other in against)


@dataclass(frozen=True)
class Picture:
    """One picture the viewer scrolls through: a file, or one frame of a multi-frame file."""

    slice: Slice
    frame: int = 1  # from 1, as in the address
    frames: int = 1

    @property
    def id(self) -> str:
        """The file's attachment id."""
        return self.slice.id

    @property
    def instance(self) -> int | None:
        """The file's instance number."""
        return self.slice.instance

    @property
    def viewable(self) -> bool:
        """Tell whether the virus scan passed the file."""
        return self.slice.viewable

    @property
    def scan(self) -> str:
        """What the virus scan said of the file."""
        return self.slice.attachment.scan

    @property
    def numbered_frame(self) -> int | None:
        """The frame's number, for a file that has several."""
        return self.frame if self.frames > 1 else None


@routes.get("/inbox/tickets/{reference}/files/{attachment_id}/thumbnail.png")
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """Draw a DICOM file small, for a series' list or the ticket's studies."""
    return await _image(request, Size.THUMBNAIL)


@routes.get("/inbox/tickets/{reference}/files/{attachment_id}/slice.png")
async def slice_image(request: web.Request) -> web.StreamResponse:
    """Draw a DICOM file (one frame of it) at full size, through the window asked for."""
    return await _image(request, Size.FULL)


@routes.get("/inbox/tickets/{reference}/series/{series_uid}", name="dicom_series")
async def series_page(request: web.Request) -> web.StreamResponse:
    """Show a series: one slice large, a scroller through them, window presets, whose they are."""
    staff = await _viewer(request)
    try:
        ticket = await _ticket(request)
    except queries.TicketNotFound as exc:
        return ticket_not_found_page(request, exc)
    try:
        series = await _series(request, ticket)
    except NoSuchSeries as exc:
        return _refusal(request, exc)
    pictures = await _pictures(request.app[RECORDS_KEY], ticket, series)
    await _audit(request, staff, ticket, TicketAction.FILE_VIEWED, series, quiet=False)
    return render_page(
        request,
        "dicom_series.html",
        staff=staff,
        csrf_token=staff.csrf_token,
        ticket=ticket,
        series=series,
        pictures=pictures,
        shown=_position(request.query, len(pictures)),
        window=Window.from_query(request.query.get("window")).value,
        windows=[window.value for window in Window],
        presets={window.value: PRESETS[window] for window in PRESETS},
        names=NameCheck(series.patient_names, ticket.contact_name),
        downloadable=series.viewable,
        ticket_path=f"/inbox/tickets/{ticket.reference}",
    )


@routes.get("/inbox/tickets/{reference}/series/{series_uid}/originals.zip")
async def originals(request: web.Request) -> web.StreamResponse:
    """Stream a ZIP of the series' original files (as stored: preamble zeroed), for viewers."""
    staff = await _viewer(request)
    ticket = await _ticket(request)
    try:
        series = await _series(request, ticket)
        files = [each.attachment for each in series.slices if each.viewable]
        if not files:
            raise FileQuarantined()
    except (NoSuchSeries, FileQuarantined) as exc:
        return _refusal(request, exc)
    await _audit(request, staff, ticket, TicketAction.FILE_DOWNLOADED, series, quiet=False)
    response = web.StreamResponse(
        headers={
            **IMAGE_HEADERS,
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{ticket.reference}-dicom.zip"',
        }
    )
    await response.prepare(request)
    try:
        await _stream_zip(request.app[RECORDS_KEY], ticket, files, response)
    except (FileUnreadable, NoSuchAttachment, FileQuarantined) as exc:
        logger.error("originals ZIP of %s cut short: %s", ticket.reference, exc.code)
        response.force_close()
        return response
    except ConnectionResetError:
        logger.info("originals ZIP of %s: the browser went away", ticket.reference)
        return response
    await response.write_eof()
    return response


async def _image(request: web.Request, size: Size) -> web.StreamResponse:
    """Draw one DICOM file of the ticket as a PNG, or say why it cannot be drawn."""
    staff = await _viewer(request)
    ticket = await _ticket(request)
    drawing = Drawing(Window.from_query(request.query.get("window")), _frame(request.query), size)
    try:
        attachment, chunks = await request.app[RECORDS_KEY].read(
            ticket, request.match_info["attachment_id"]
        )
        if attachment.content_type != DICOM:
            raise NotDicom()
        png = await asyncio.to_thread(render, chunks, drawing)
    except UNDRAWABLE as exc:
        return _refusal(request, exc)
    await _audit(request, staff, ticket, TicketAction.FILE_VIEWED, attachment, quiet=True)
    return web.Response(body=png, content_type="image/png", headers=IMAGE_HEADERS)


async def _pictures(records: Records, ticket: Ticket, series: Series) -> list[Picture]:
    """The series' pictures in order: each file, or each frame of a multi-frame file."""
    if series.count > PEEK_FILES:
        return [Picture(each) for each in series.slices]
    pictures: list[Picture] = []
    for each in series.slices:
        frames = await _frames(records, ticket, each) if each.viewable else 1
        pictures.extend(Picture(each, frame, frames) for frame in range(1, frames + 1))
    return pictures


async def _frames(records: Records, ticket: Ticket, each: Slice) -> int:
    """How many frames a clean file has, from its header; 1 if it cannot be read."""
    try:
        _, chunks = await records.read(ticket, each.id)
    except (NoSuchAttachment, FileQuarantined):
        return 1
    try:
        return await asyncio.to_thread(frames_in, chunks)
    except (CannotDecode, FileUnreadable):
        return 1
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # the rest of the file is never decrypted


async def _viewer(request: web.Request) -> Staff:
    """The signed-in member of staff, if their role works tickets (and so sees the records)."""
    staff = await require_staff(request)
    require_ticket_work(request, staff)
    return staff


async def _ticket(request: web.Request) -> Ticket:
    """The ticket the address names, or TicketNotFound (the page errors answer it)."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        return await queries.get_ticket(session, request.match_info["reference"])


async def _series(request: web.Request, ticket: Ticket) -> Series:
    """The series the address names among the ticket's files, or NoSuchSeries."""
    files = await request.app[RECORDS_KEY].attachments(ticket.id)
    series = series_of(files, request.match_info["series_uid"])
    if series is None:
        raise NoSuchSeries()
    return series


async def _audit(
    request: web.Request,
    staff: Staff,
    ticket: Ticket,
    action: TicketAction,
    seen: Series | Attachment,
    *,
    quiet: bool,
) -> None:
    """Record that staff saw or took files; when quiet, not again within AUDIT_QUIET."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        if quiet:
            recent = await session.scalar(
                select(TicketEvent.id)
                .where(
                    TicketEvent.ticket_id == ticket.id,
                    TicketEvent.action == TicketAction.FILE_VIEWED.value,
                    TicketEvent.actor_id == staff.user.id,
                    TicketEvent.at >= utcnow() - AUDIT_QUIET,
                )
                .limit(1)
            )
            if recent is not None:
                return
        if isinstance(seen, Series):
            first = seen.slices[0].attachment
            value = f"{first.label} {DICOM} {seen.count}"
        else:
            value = f"{seen.label} {seen.content_type} 1"
        queries.record_event(session, ticket, queries.Actor.staff(staff.user), action, None, value)
        await session.commit()


async def _stream_zip(
    records: Records, ticket: Ticket, files: list[Attachment], response: web.StreamResponse
) -> None:
    """Write the files into a ZIP as they are decrypted, sending it on chunk by chunk."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for number, file in enumerate(files, start=1):
            _, chunks = await records.read(ticket, file.id)
            info = zipfile.ZipInfo(f"{number:04d}.dcm", date_time=file.received_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = file.size
            with archive.open(info, "w") as member:
                while await asyncio.to_thread(_copy_chunk, chunks, member):
                    await response.write(sink.take())
            await response.write(sink.take())
    await response.write(sink.take())


def _copy_chunk(chunks: Iterator[bytes], member: IO[bytes]) -> bool:
    """Decrypt the next chunk of a file into its ZIP member; False once the file is done."""
    chunk = next(chunks, None)
    if chunk is None:
        return False
    member.write(chunk)
    return True


class _Sink:
    """Where the ZIP writes: kept in memory until the response takes it."""

    def __init__(self) -> None:
        """Start empty."""
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        """Keep bytes the ZIP wrote."""
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the response takes the bytes."""

    def close(self) -> None:
        """Nothing to close: the response ends itself."""

    def take(self) -> bytes:
        """Hand over what was written since the last time."""
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _refusal(request: web.Request, error: CodedError) -> web.Response:
    """A page that says why the images cannot be shown or given."""
    status = REFUSALS.get(type(error), 422)
    title = wording.text("page_cannot_open_images")
    return error_page(request, status, title, wording.describe(error))


def _frame(query: MultiMapping[str]) -> int:
    """The frame asked for, from 1 in the address to 0 in the file; the first if unclear."""
    value = query.get("frame", "1")
    return int(value) - 1 if value.isdigit() and 0 < int(value) <= MOST_FRAMES else 0


def _position(query: MultiMapping[str], count: int) -> int:
    """The slice to show, from 1, within the series; the first if unclear."""
    value = query.get("slice", "1")
    return min(int(value), count) if value.isdigit() and int(value) > 0 else 1

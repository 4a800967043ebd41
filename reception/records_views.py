"""The patients' files for staff: shown in the ticket page, or downloaded, each time audited.

Only a file the virus scan passed can be opened. PDFs and pictures open in the page (in a
frame of the ticket page, served with a policy that lets nothing in them run); every other
type, and any file on request, is downloaded under a name made of the ticket's reference and
the file's label, never the patient's own file name.
"""

from __future__ import annotations

from aiohttp import web

from . import queries, wording
from .appkeys import RECORDS_KEY, SESSIONMAKER_KEY
from .attachments import FileQuarantined, NoSuchAttachment
from .models import Attachment, Ticket, TicketAction
from .pages import SECURITY_HEADERS, error_page
from .record_files import DOCX, ZIP
from .staff_auth import forbidden, require_staff, require_ticket_work

routes = web.RouteTableDef()

# The types staff can see in the page; the others are only downloaded.
SHOWN_IN_PAGE = frozenset({"application/pdf", "image/jpeg", "image/png"})
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "application/dicom": "dcm",
    DOCX: "docx",
    ZIP: "zip",
}
# What a file shown in the page may do: nothing but be looked at, inside the ticket page.
FILE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


@routes.get("/inbox/tickets/{reference}/files/{attachment_id}", name="record_file")
async def show_file(request: web.Request) -> web.StreamResponse:
    """Show a PDF or picture the patient sent, in the page; audited as viewed."""
    return await _send(request, TicketAction.FILE_VIEWED, inline=True)


@routes.get("/inbox/tickets/{reference}/files/{attachment_id}/download", name="record_download")
async def download_file(request: web.Request) -> web.StreamResponse:
    """Download a file the patient sent, as it was received; audited as downloaded."""
    return await _send(request, TicketAction.FILE_DOWNLOADED, inline=False)


def shown_in_page(attachment: Attachment) -> bool:
    """Tell whether staff can look at a file in the page."""
    return attachment.content_type in SHOWN_IN_PAGE


def download_name(ticket: Ticket, attachment: Attachment, number: int) -> str:
    """The name a file is downloaded under: reference, label and place, never the patient's."""
    extension = EXTENSIONS.get(attachment.content_type, "bin")
    return f"{ticket.reference}-{attachment.label}-{number}.{extension}"


async def _send(request: web.Request, action: TicketAction, *, inline: bool) -> web.StreamResponse:
    """Decrypt a clean file to the browser, with headers that keep it where it belongs."""
    staff = await require_staff(request)
    require_ticket_work(request, staff)  # health data: not for accounts that only edit content
    async with request.app[SESSIONMAKER_KEY]() as session:
        ticket = await queries.get_ticket(session, request.match_info["reference"])
    attachment_id = request.match_info["attachment_id"]
    listed = [each.id for each in ticket.attachments]
    if attachment_id not in listed:
        return _missing(request, "no_such_attachment")
    if inline and not shown_in_page(ticket.attachments[listed.index(attachment_id)]):
        return _missing(request, "file_not_shown")
    records = request.app[RECORDS_KEY]
    try:
        attachment, chunks = await records.open(
            ticket, attachment_id, queries.Actor.staff(staff.user), action
        )
    except NoSuchAttachment:
        return _missing(request, "no_such_attachment")
    except FileQuarantined:
        raise forbidden(request, wording.text("file_quarantined")) from None
    number = listed.index(attachment.id) + 1
    disposition = "inline" if inline else "attachment"
    response = web.StreamResponse(
        headers={
            **SECURITY_HEADERS,
            "Content-Type": attachment.content_type,
            "Content-Length": str(attachment.size),
            "Content-Disposition": (
                f'{disposition}; filename="{download_name(ticket, attachment, number)}"'
            ),
            "Content-Security-Policy": FILE_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, no-store",
        }
    )
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


def _missing(request: web.Request, code: str) -> web.Response:
    """The page that says a file is not there to be seen."""
    return error_page(request, 404, wording.text("page_no_such_file"), wording.text(code))

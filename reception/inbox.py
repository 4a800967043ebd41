"""The staff inbox: the ticket list (kept fresh by a short poll) and the ticket page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping
from pydantic import ValidationError

from . import queries, reminders, wording
from .appkeys import CONTENT_KEY, SESSIONMAKER_KEY, SETTINGS_KEY, STAFF_MESSAGES_KEY
from .dicom_studies import studies
from .models import (
    MISSING_RECORDS,
    OPEN_STATUSES,
    REMINDER_LENGTH,
    ScanResult,
    Ticket,
    TicketEvent,
    TicketOrder,
    TicketStatus,
    utcnow,
)
from .pages import age, business_time, label, render, ticket_not_found_page, when
from .records_views import SHOWN_IN_PAGE
from .replies import replies_for
from .schemas import MAX_NOTE_LENGTH, MAX_STAFF_MESSAGE_LENGTH, MessageCreate, NoteCreate
from .service_levels import Clock, ClockState, ServiceLevels
from .staff_auth import (
    NotSignedIn,
    Staff,
    checked_form,
    current_staff,
    require_staff,
    require_ticket_work,
)

PAGE_SIZE = 50
STATUS_CHOICES = ("open", "all", *(status.value for status in TicketStatus))
SORT_CHOICES = (TicketOrder.NEW_FIRST.value, TicketOrder.DUE.value)  # the first is the default

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class ListView:
    """What the staff asked the list to show."""

    status: str = "open"
    department: str = ""
    q: str = ""
    overdue: bool = False
    sort: str = SORT_CHOICES[0]
    page: int = 1

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> ListView:
        """Read the list's filters from a query string, ignoring values that make no sense."""
        status = query.get("status", "open")
        sort = query.get("sort", SORT_CHOICES[0])
        page = query.get("page", "1")
        return cls(
            status=status if status in STATUS_CHOICES else "open",
            department=query.get("department", "").strip()[:200],
            q=query.get("q", "").strip()[:200],
            overdue=query.get("overdue") == "1",
            sort=sort if sort in SORT_CHOICES else SORT_CHOICES[0],
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    @property
    def filters(self) -> queries.TicketFilters:
        """Return the query filters for this view."""
        statuses: tuple[TicketStatus, ...] = ()
        if self.status == "open":
            statuses = OPEN_STATUSES
        elif self.status != "all":
            statuses = (TicketStatus(self.status),)
        return queries.TicketFilters(
            statuses=statuses,
            department=self.department or None,
            text=self.q or None,
            overdue_at=utcnow() if self.overdue else None,
        )

    def query_string(self, **changes: Any) -> str:
        """Return the query string of this view, with some values changed."""
        values = {
            "status": self.status,
            "department": self.department,
            "q": self.q,
            "overdue": "1" if self.overdue else "",
            "sort": "" if self.sort == SORT_CHOICES[0] else self.sort,
        }
        values.update({"page": str(self.page)}, **{k: str(v) for k, v in changes.items()})
        return urlencode({key: value for key, value in values.items() if value})


@routes.get("/")
async def root(request: web.Request) -> web.StreamResponse:
    """Send staff to the inbox."""
    raise web.HTTPSeeOther("/inbox")


@routes.get("/inbox", name="inbox")
async def inbox_page(request: web.Request) -> web.StreamResponse:
    """Show the ticket list, new tickets first."""
    staff = await require_staff(request)
    view = ListView.from_query(request.query)
    async with request.app[SESSIONMAKER_KEY]() as session:
        page = await _list(session, view)
        departments = await queries.list_departments(session)
        due = await reminders.due_reminders(session, staff.user, utcnow())
    levels = request.app[SETTINGS_KEY].service_levels
    rows = [_row(ticket, levels) for ticket in page.items]
    return render(
        request,
        "inbox.html",
        staff=staff,
        csrf_token=staff.csrf_token,
        view=view,
        rows=rows,
        total=page.total,
        signature=_signature(rows),
        pages=max(1, -(-page.total // PAGE_SIZE)),
        statuses=STATUS_CHOICES,
        sorts=SORT_CHOICES,
        departments=departments,
        due_reminders=due,
    )


@routes.get("/inbox/tickets.json", name="inbox_feed")
async def inbox_feed(request: web.Request) -> web.Response:
    """Return the list's rows as JSON, for the page to refresh itself without a reload."""
    try:
        await current_staff(request)
    except NotSignedIn:
        return web.json_response({"error": "signed_out"}, status=401)
    view = ListView.from_query(request.query)
    async with request.app[SESSIONMAKER_KEY]() as session:
        page = await _list(session, view)
    rows = [_row(ticket, request.app[SETTINGS_KEY].service_levels) for ticket in page.items]
    return web.json_response({"rows": rows, "total": page.total, "signature": _signature(rows)})


@routes.get("/inbox/tickets/{reference}", name="ticket_page")
async def ticket_page(request: web.Request) -> web.StreamResponse:
    """Show one ticket: summary, checklist, contact, transcript, notes, history and actions."""
    staff = await require_staff(request)
    done = wording.table("inbox_done").get(request.query.get("done", ""))
    return await _ticket_page(request, staff, notice=done, reply=request.query.get("reply"))


@routes.post("/inbox/tickets/{reference}/status")
async def change_status(request: web.Request) -> web.StreamResponse:
    """Move the ticket along the workflow."""
    staff, form = await _worker_form(request)
    try:
        status = TicketStatus(form.get("status", ""))
    except ValueError:
        error = wording.text("inbox_choose_status")
        return await _ticket_page(request, staff, error=error, status=422)
    actor = queries.Actor.staff(staff.user)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            await queries.update_ticket(
                session,
                _reference(request),
                actor,
                status=status,
                levels=request.app[SETTINGS_KEY].service_levels,
            )
        except (queries.TransitionNotAllowed, queries.TicketChanged) as exc:
            return await _ticket_page(request, staff, error=wording.describe(exc), status=409)
    raise _done(request, "status")


@routes.post("/inbox/tickets/{reference}/assignee")
async def change_assignee(request: web.Request) -> web.StreamResponse:
    """Assign the ticket to the signed-in staff member, or to nobody."""
    staff, form = await _worker_form(request)
    to_me = form.get("assignee") == "me"
    actor = queries.Actor.staff(staff.user)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            await queries.update_ticket(
                session,
                _reference(request),
                actor,
                assign=True,
                assignee=staff.user.email if to_me else None,
            )
        except queries.TicketChanged as exc:
            return await _ticket_page(request, staff, error=wording.describe(exc), status=409)
    raise _done(request, "assigned" if to_me else "unassigned")


@routes.post("/inbox/tickets/{reference}/notes")
async def add_note(request: web.Request) -> web.StreamResponse:
    """Add an internal note."""
    staff, form = await _worker_form(request)
    text = form.get("text", "")
    try:
        data = NoteCreate(text=text)
    except ValidationError:
        error = wording.text("inbox_note_length", maximum=MAX_NOTE_LENGTH)
        return await _ticket_page(request, staff, error=error, status=422, note=text)
    async with request.app[SESSIONMAKER_KEY]() as session:
        await queries.add_note(
            session, _reference(request), data.text, queries.Actor.staff(staff.user)
        )
    raise _done(request, "note")


@routes.post("/inbox/tickets/{reference}/messages")
async def send_message(request: web.Request) -> web.StreamResponse:
    """Send a message to the patient through the bot."""
    staff, form = await _worker_form(request)
    text = form.get("text", "")
    try:
        data = MessageCreate(text=text)
    except ValidationError:
        error = wording.text("inbox_message_length", maximum=MAX_STAFF_MESSAGE_LENGTH)
        return await _ticket_page(request, staff, error=error, status=422, message=text)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            sent = await request.app[STAFF_MESSAGES_KEY].send(
                session, _reference(request), data.text, queries.Actor.staff(staff.user)
            )
        except queries.TicketErased as exc:
            return await _ticket_page(request, staff, error=wording.describe(exc), status=409)
    if sent.error is not None:
        error = wording.describe(sent.error)
        return await _ticket_page(request, staff, error=error, status=502, message=text)
    if sent.state == "queued":
        raise _done(request, "message_queued")
    raise _done(request, "message")


@routes.post("/inbox/tickets/{reference}/reminders")
async def set_reminder(request: web.Request) -> web.StreamResponse:
    """Remind the signed-in member of staff of this ticket at a moment in business time's zone."""
    staff, form = await _worker_form(request)
    text, moment = form.get("text", "").strip(), form.get("when", "")
    zone = ZoneInfo(request.app[SETTINGS_KEY].service_levels.calendar.zone)
    try:
        due_at = datetime.fromisoformat(moment).replace(tzinfo=zone)
        if not 1 <= len(text) <= REMINDER_LENGTH:
            raise ValueError(text)
    except ValueError:
        error = wording.text("inbox_reminder_invalid", maximum=REMINDER_LENGTH)
        return await _ticket_page(request, staff, error=error, status=422)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            await reminders.set_reminder(session, _reference(request), staff.user, due_at, text)
        except reminders.ReminderInThePast as exc:
            return await _ticket_page(request, staff, error=wording.describe(exc), status=422)
    raise _done(request, "reminder")


@routes.post("/inbox/tickets/{reference}/reminders/{reminder}/done")
async def finish_reminder(request: web.Request) -> web.StreamResponse:
    """Mark one of the signed-in member of staff's reminders done."""
    staff, _ = await _worker_form(request)
    try:
        reminder_id = int(request.match_info["reminder"])
    except ValueError:
        reminder_id = 0
    async with request.app[SESSIONMAKER_KEY]() as session:
        finished = await reminders.finish_reminder(session, reminder_id, staff.user)
    if not finished:
        error = wording.text("inbox_reminder_not_yours")
        return await _ticket_page(request, staff, error=error, status=404)
    raise _done(request, "reminder_done")


async def _worker_form(request: web.Request) -> tuple[Staff, MultiDictProxy[str]]:
    """Check that a signed-in staff member may change tickets, and read the CSRF-checked form."""
    staff = await require_staff(request)
    require_ticket_work(request, staff)
    return staff, await checked_form(request, staff)


async def _ticket_page(
    request: web.Request,
    staff: Staff,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    note: str = "",
    message: str = "",
    reply: str | None = None,
) -> web.Response:
    """Render the ticket page, with a notice or an error, any draft text kept, and the canned
    replies (the one asked for, if any, in the message box).
    """
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            ticket = await queries.get_ticket(session, _reference(request))
        except queries.TicketNotFound as exc:
            return ticket_not_found_page(request, exc)
        history = await queries.ticket_history(session, ticket)
        planned = await reminders.open_reminders(session, ticket)
    content = request.app[CONTENT_KEY].store
    replies = [] if ticket.erased_at else replies_for(content, ticket, staff.user.language)
    chosen = next((each for each in replies if each.code == reply), None)
    return render(
        request,
        "ticket.html",
        status=status,
        staff=staff,
        csrf_token=staff.csrf_token,
        ticket=ticket,
        history=history,
        next_statuses=queries.allowed_next(ticket.status),
        records=_records(ticket),
        files=ticket.attachments,
        studies=studies(ticket.attachments),
        filed={file.label for file in ticket.attachments if file.scan != ScanResult.INFECTED},
        shown_in_page=SHOWN_IN_PAGE,
        erasure_reason=_erasure_reason(history),
        can_work=staff.role.works_tickets,
        notice=notice,
        error=error,
        note_draft=note,
        message_draft=chosen.text if chosen and not message else message,
        translation=chosen.translation if chosen and not message else None,
        reminders=planned,
        flag=_flag(ticket),
        reminder_length=REMINDER_LENGTH,
        replies=replies,
        replies_data={each.code: asdict(each) for each in replies},
    )


async def _list(session: Any, view: ListView) -> queries.TicketSlice:
    """Return the page of tickets a list view shows."""
    offset = (view.page - 1) * PAGE_SIZE
    return await queries.list_tickets(
        session, view.filters, limit=PAGE_SIZE, offset=offset, order=TicketOrder(view.sort)
    )


def _row(ticket: Ticket, levels: ServiceLevels) -> dict[str, Any]:
    """Return what the list shows of a ticket, ready for a template or JSON."""
    return {
        **_due(levels.clocks(ticket, utcnow())),
        "reference": ticket.reference,
        "url": f"/inbox/tickets/{ticket.reference}",
        "status": ticket.status,
        "status_label": label(ticket.status),
        "kind_label": label(ticket.kind),
        "received": when(ticket.created_at),
        "received_iso": ticket.created_at.isoformat(),
        "age": age(ticket.created_at, utcnow()),
        "department": label(ticket.department),
        "cancer_type": label(ticket.cancer_type),
        "name": _name(ticket),
        "channel": label(ticket.channel),
        "assignee": ticket.assignee.email if ticket.assignee else "—",
        "missing_records": sum(state in MISSING_RECORDS for state in ticket.records.values()),
        "flag": _flag(ticket),
    }


def _flag(ticket: Ticket) -> str:
    """What staff must not miss on an open ticket: the patient's reminders ran out."""
    if ticket.follow_up_flagged_at is None or ticket.status not in OPEN_STATUSES:
        return ""
    return wording.text("inbox_follow_up_flag")


DUE_RUNNING = ("running", "inbox_due_running")


def _due(clocks: list[Clock]) -> dict[str, str]:
    """Say where the ticket's most pressing service level stands: time left, late, or paused."""
    running = [clock for clock in clocks if clock.state is ClockState.RUNNING]
    paused = [clock for clock in clocks if clock.state is ClockState.PAUSED]
    if running:
        clock = min(running, key=lambda each: each.due_at or utcnow())
        state, code = ("overdue", "inbox_due_overdue") if clock.overdue else DUE_RUNNING
        left = business_time(abs(clock.seconds_left or 0))
        return {
            "due_state": state,
            "due": wording.text(code, time=left),
            "due_target": label(clock.target),
            "due_iso": clock.due_at.isoformat() if clock.due_at else "",
        }
    if paused:
        return {
            "due_state": "paused",
            "due": wording.text("inbox_due_paused"),
            "due_target": label(paused[0].target),
            "due_iso": "",
        }
    return {"due_state": "none", "due": "—", "due_target": "", "due_iso": ""}


def _name(ticket: Ticket) -> str:
    """Return the patient's name for the list, or when their personal data was erased."""
    if ticket.erased_at is not None:
        return wording.text("inbox_erased_name", day=ticket.erased_at.date().isoformat())
    return ticket.contact_name or "—"


def _erasure_reason(history: list[TicketEvent]) -> str:
    """Say why the ticket's personal data was erased, from its audit log (empty if it was not)."""
    reasons = wording.table("erasure_reasons")
    for event in reversed(history):
        if event.action in reasons:
            return reasons[event.action]
    return ""


def _records(ticket: Ticket) -> list[dict[str, Any]]:
    """Return the checklist items, missing ones first."""
    items = [
        {"key": item, "item": label(item), "state": state, "missing": state in MISSING_RECORDS}
        for item, state in ticket.records.items()
    ]
    return sorted(items, key=lambda entry: not entry["missing"])


def _signature(rows: list[dict[str, Any]]) -> str:
    """Return a short fingerprint of the rows, so the page redraws only when something changed."""
    text = json.dumps(rows, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _reference(request: web.Request) -> str:
    """Return the ticket reference in the URL."""
    return request.match_info["reference"]


def _done(request: web.Request, what: str) -> web.HTTPSeeOther:
    """Send the browser back to the ticket page with a notice (post/redirect/get)."""
    return web.HTTPSeeOther(f"/inbox/tickets/{_reference(request)}?done={what}#notice")

"""What every staff page shares: templates, their filters, error pages and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from . import wording
from .appkeys import TEMPLATES_KEY
from .models import utcnow
from .queries import TicketNotFound

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def template_environment() -> jinja2.Environment:
    """Build the jinja2 environment of the staff pages: autoescaped, strict about undefined."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        age=age, ago=ago, when=when, when_iso=when_iso, label=label, filesize=filesize
    )
    environment.globals.update(
        text=wording.text, table=wording.table, page_language=wording.language
    )
    return environment


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """Render a staff page."""
    page = request.app[TEMPLATES_KEY].get_template(template)
    context.setdefault("staff", None)
    context.setdefault("csrf_token", "")
    # Where the language form brings staff back to: this page, unless it answered a form.
    context.setdefault("here", request.path_qs if request.method == "GET" else "/inbox")
    return web.Response(text=page.render(**context), status=status, content_type="text/html")


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """Render an error page a person can read, from a rendered title and message."""
    return render(request, "error.html", status=status, title=title, message=message)


def ticket_not_found_page(request: web.Request, error: TicketNotFound) -> web.Response:
    """Render the page that says a ticket does not exist."""
    title = wording.text("page_no_such_ticket")
    return error_page(request, 404, title, wording.describe(error))


def age(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago something happened, briefly: '4 min', '3 h', '2 d'."""
    minutes = _minutes_since(moment, now)
    if minutes < 1:
        return wording.text("age_just_now")
    if minutes < 60:
        return wording.text("age_minutes", count=minutes)
    if minutes < 48 * 60:
        return wording.text("age_hours", count=minutes // 60)
    return wording.text("age_days", count=minutes // (24 * 60))


def business_time(seconds: float) -> str:
    """Say a span of business time briefly: '40 min', '6 h 20 min', '13 h'."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return wording.text("age_minutes", count=minutes)
    hours, minutes = divmod(minutes, 60)
    if minutes == 0 or hours >= 10:
        return wording.text("age_hours", count=hours)
    return wording.text("business_hours_minutes", hours=hours, minutes=minutes)


def ago(moment: datetime) -> str:
    """Say when something happened relative to now: 'just now', '4 min ago'."""
    if _minutes_since(moment) < 1:
        return wording.text("age_just_now")
    return wording.text("ago", age=age(moment))


def _minutes_since(moment: datetime, now: datetime | None = None) -> int:
    """Count the whole minutes from a moment to now (none if it is in the future)."""
    elapsed = max((now or utcnow()) - moment, timedelta(0))
    return int(elapsed.total_seconds() // 60)


def when(moment: datetime) -> str:
    """Format a moment for staff, in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def when_iso(moment: str | None) -> str:
    """Format a moment kept as ISO 8601 text (an audit event's value) as `when` does."""
    if not moment:
        return "—"
    try:
        return when(datetime.fromisoformat(moment).astimezone(UTC))
    except ValueError:
        return moment


def filesize(size: int) -> str:
    """Say a file's size briefly: 812 B, 38.2 KB, 4.7 MB."""
    if size < 1024:
        return wording.text("file_size_bytes", value=size)
    if size < 1024**2:
        return wording.text("file_size_kib", value=f"{size / 1024:.1f}")
    return wording.text("file_size_mib", value=f"{size / 1024**2:.1f}")


def label(value: str | None) -> str:
    """Name a code such as 'waiting_for_records' in words: 'Waiting for records'.

    A code the labels table lacks reads as itself, capitalised.
    """
    if not value:
        return "—"
    return wording.table("labels").get(value) or value.replace("_", " ").capitalize()


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Speak the browser's language on staff pages until a signed-in account names its own.

    The API, like the logs, speaks English.
    """
    browser = request.headers.get("Accept-Language")
    spoken = wording.DEFAULT_LANGUAGE
    if not request.path.startswith("/api/"):
        spoken = wording.preferred_language(browser)
    with wording.speaking(spoken):
        return await handler(request)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the CSP and the other security headers; keep pages with patient data out of caches."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(exc.headers, request)
        raise
    _secure(response.headers, request)
    return response


@web.middleware
async def page_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer failures of the staff pages with a page a person can read (the API has its own)."""
    if request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except TicketNotFound as exc:
        return ticket_not_found_page(request, exc)
    except Exception:
        logger.exception("Unexpected error while serving %s %s", request.method, request.path)
        title, message = wording.text("page_went_wrong"), wording.text("page_went_wrong_detail")
        return error_page(request, 500, title, message)


def _secure(headers: Any, request: web.Request) -> None:
    """Set the security headers on a response's headers."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")

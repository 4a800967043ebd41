"""What every staff page shares: templates, their filters, error pages and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

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
    environment.filters.update(age=age, ago=ago, when=when, label=label)
    return environment


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """Render a staff page."""
    page = request.app[TEMPLATES_KEY].get_template(template)
    context.setdefault("staff", None)
    context.setdefault("csrf_token", "")
    return web.Response(text=page.render(**context), status=status, content_type="text/html")


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """Render an error page a person can read."""
    return render(request, "error.html", status=status, title=title, message=message)


def age(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago something happened, briefly: '4 min', '3 h', '2 d'."""
    elapsed = max((now or utcnow()) - moment, timedelta(0))
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def ago(moment: datetime) -> str:
    """Say when something happened relative to now: 'just now', '4 min ago'."""
    elapsed = age(moment)
    return elapsed if elapsed == "just now" else f"{elapsed} ago"


def when(moment: datetime) -> str:
    """Format a moment for staff, in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def label(value: str | None) -> str:
    """Turn a code such as 'waiting_for_records' into 'Waiting for records'."""
    if not value:
        return "—"
    return value.replace("_", " ").capitalize()


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
    except TicketNotFound:
        return error_page(request, 404, "No such ticket", "No ticket has this reference.")
    except Exception:
        logger.exception("Unexpected error while serving %s %s", request.method, request.path)
        message = "Something went wrong on our side. Please try again in a moment."
        return error_page(request, 500, "Something went wrong", message)


def _secure(headers: Any, request: web.Request) -> None:
    """Set the security headers on a response's headers."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")

"""Staff sign-in: signed session cookies, CSRF tokens, and the login and logout pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from . import accounts, wording
from .appkeys import LOGIN_LIMITER_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from .models import StaffRole, StaffSession, StaffUser
from .pages import error_page, render

SESSION_COOKIE = "reception_session"
LOGIN_COOKIE = "reception_login"
CSRF_FIELD = "csrf_token"
INBOX_PATH = "/inbox"

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in member of staff behind a request."""

    user: StaffUser
    session: StaffSession

    @property
    def role(self) -> StaffRole:
        """Return the account's role."""
        return StaffRole(self.user.role)

    @property
    def csrf_token(self) -> str:
        """Return the token every form of this session must carry."""
        return self.session.csrf_token


class NotSignedIn(Exception):
    """The request has no live staff session."""


def sign(secret: str, purpose: str, value: str) -> str:
    """Append an HMAC of the value, bound to its purpose, to the value."""
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def unsign(secret: str, purpose: str, signed: str | None) -> str | None:
    """Return the value of a signed string, or None when the signature is wrong."""
    if not signed or "." not in signed:
        return None
    value = signed.rsplit(".", 1)[0]
    return value if hmac.compare_digest(sign(secret, purpose, value), signed) else None


async def current_staff(request: web.Request) -> Staff:
    """Return the signed-in staff member, or raise NotSignedIn."""
    token = unsign(
        request.app[SETTINGS_KEY].session_secret, "session", request.cookies.get(SESSION_COOKIE)
    )
    if token is None:
        raise NotSignedIn()
    async with request.app[SESSIONMAKER_KEY]() as session:
        stored = await accounts.find_session(session, token)
    if stored is None:
        raise NotSignedIn()
    wording.speak(stored.user.language)  # every page of the request speaks the account's language
    return Staff(user=stored.user, session=stored)


async def require_staff(request: web.Request) -> Staff:
    """Return the signed-in staff member, or send the browser to the login page."""
    try:
        return await current_staff(request)
    except NotSignedIn:
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}") from None


def require_ticket_work(request: web.Request, staff: Staff) -> None:
    """Refuse roles that may only read tickets."""
    if not staff.role.works_tickets:
        raise forbidden(request, wording.text("role_views_only", role=staff.role.value))


def require_content_work(request: web.Request, staff: Staff) -> None:
    """Refuse everyone but editors and admins."""
    if not staff.role.edits_content:
        raise forbidden(request, wording.text("content_work_only"))


def require_admin(request: web.Request, staff: Staff) -> None:
    """Refuse everyone but admins."""
    if staff.role is not StaffRole.ADMIN:
        raise forbidden(request, wording.text("admin_only"))


async def checked_form(request: web.Request, staff: Staff) -> MultiDictProxy[str]:
    """Read a posted form and check its CSRF token against the session's."""
    form = await _text_form(request)
    if not hmac.compare_digest(form.get(CSRF_FIELD, ""), staff.csrf_token):
        raise forbidden(request, wording.text("form_expired"))
    return form


def forbidden(request: web.Request, message: str) -> web.HTTPForbidden:
    """Return a 403 with a readable page that says the rendered message, to raise."""
    page = error_page(request, 403, wording.text("page_not_allowed"), message)
    return web.HTTPForbidden(text=page.text, content_type="text/html")


@routes.get("/login", name="login")
async def login_page(request: web.Request) -> web.StreamResponse:
    """Show the login form (or go to the inbox if already signed in)."""
    try:
        await current_staff(request)
    except NotSignedIn:
        return _login_form(request, next_path=safe_next(request.query.get("next")))
    raise web.HTTPSeeOther(INBOX_PATH)


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Sign in with e-mail and password, then go where the user was heading."""
    form = await _text_form(request)
    next_path = safe_next(form.get("next"))
    settings = request.app[SETTINGS_KEY]
    nonce = unsign(settings.session_secret, "login", request.cookies.get(LOGIN_COOKIE))
    if nonce is None or not hmac.compare_digest(form.get(CSRF_FIELD, ""), nonce):
        error = wording.text("login_expired")
        return _login_form(request, next_path=next_path, error=error, status=403)
    email = form.get("email", "").strip()
    limiter = request.app[LOGIN_LIMITER_KEY]
    async with limiter.one_at_a_time(email, request.remote):
        wait = await limiter.retry_after(email, request.remote)
        if wait is not None:
            return _locked_out(request, next_path=next_path, email=email, wait=wait)
        async with request.app[SESSIONMAKER_KEY]() as session:
            user = await accounts.authenticate(session, email, form.get("password", ""))
            if user is None:
                await limiter.failed(email, request.remote)
                error = wording.text("login_refused")
                return _login_form(
                    request, next_path=next_path, error=error, status=401, email=email
                )
            opened = await accounts.open_session(session, user, settings.session_hours)
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        sign(settings.session_secret, "session", opened.token),
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
    )
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out this browser."""
    staff = await require_staff(request)
    await checked_form(request, staff)
    token = unsign(
        request.app[SETTINGS_KEY].session_secret, "session", request.cookies.get(SESSION_COOKIE)
    )
    if token is not None:
        async with request.app[SESSIONMAKER_KEY]() as session:
            await accounts.close_session(session, token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _locked_out(request: web.Request, *, next_path: str, email: str, wait: int) -> web.Response:
    """Refuse a login attempt after too many failures, saying when to try again."""
    minutes = max(1, -(-wait // 60))
    error = wording.text("login_locked_out", minutes=minutes)
    response = _login_form(request, next_path=next_path, error=error, status=429, email=email)
    response.headers["Retry-After"] = str(wait)
    return response


def _login_form(
    request: web.Request,
    *,
    next_path: str,
    error: str | None = None,
    status: int = 200,
    email: str = "",
) -> web.Response:
    """Render the login form with a fresh login CSRF nonce in a signed cookie."""
    settings = request.app[SETTINGS_KEY]
    nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        csrf_token=nonce,
        next_path=next_path,
        error=error,
        email=email,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        sign(settings.session_secret, "login", nonce),
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="Strict",
        secure=settings.secure_cookies,
    )
    return response


async def _text_form(request: web.Request) -> MultiDictProxy[str]:
    """Read a posted form, keeping text fields only."""
    form = await request.post()
    return MultiDictProxy(
        MultiDict((key, value) for key, value in form.items() if isinstance(value, str))
    )


def safe_next(value: str | None) -> str:
    """Return a local path to go to after login; anything else means the inbox."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return INBOX_PATH
    if any(ord(character) < 32 for character in value):
        return INBOX_PATH
    return value

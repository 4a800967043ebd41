"""The admin's accounts page: list staff accounts, create one, deactivate or reactivate one."""

from __future__ import annotations

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from . import accounts, wording
from .appkeys import SESSIONMAKER_KEY
from .models import TEXT_LENGTH, StaffRole
from .pages import error_page, render
from .passwords import WeakPassword, check_strength
from .schemas import ShortText, StaffEmail
from .staff_auth import Staff, checked_form, require_admin, require_staff, safe_next

routes = web.RouteTableDef()

_EMAIL = TypeAdapter(StaffEmail)
_NAME: TypeAdapter[str | None] = TypeAdapter(ShortText | None)


@routes.get("/accounts", name="accounts")
async def accounts_page(request: web.Request) -> web.StreamResponse:
    """List the staff accounts, with a form to create one."""
    staff = await _admin(request)
    done = wording.table("accounts_done").get(request.query.get("done", ""))
    return await _page(request, staff, notice=done)


@routes.post("/accounts")
async def create_account(request: web.Request) -> web.StreamResponse:
    """Create a staff account with a first password the admin hands over."""
    staff = await _admin(request)
    form = await checked_form(request, staff)
    draft = {key: form.get(key, "") for key in ("email", "name", "role", "language")}
    try:
        email = _EMAIL.validate_python(draft["email"].strip())
        name = _NAME.validate_python(draft["name"].strip() or None)
        role = StaffRole(draft["role"])
        language = wording.checked_language(draft["language"] or wording.DEFAULT_LANGUAGE)
        check_strength(form.get("password", ""))
    except (ValidationError, ValueError) as exc:
        return await _page(request, staff, error=_problem(exc), draft=draft, status=422)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            password = form.get("password", "")
            await accounts.create_user(session, email, password, role, name, language)
        except accounts.AccountExists as exc:
            error = wording.describe(exc)
            return await _page(request, staff, error=error, draft=draft, status=409)
    raise web.HTTPSeeOther("/accounts?done=created")


@routes.post("/accounts/{user_id:\\d+}/active")
async def set_active(request: web.Request) -> web.StreamResponse:
    """Deactivate (signing out everywhere) or reactivate an account."""
    staff = await _admin(request)
    form = await checked_form(request, staff)
    user_id = int(request.match_info["user_id"])
    active = form.get("active") == "1"
    if user_id == staff.user.id and not active:
        error = wording.text("account_self_deactivation")
        return await _page(request, staff, error=error, status=409)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            await accounts.set_active(session, user_id, active)
        except accounts.AccountNotFound as exc:
            title = wording.text("page_no_such_account")
            return error_page(request, 404, title, wording.describe(exc))
    raise web.HTTPSeeOther(f"/accounts?done={'activated' if active else 'deactivated'}")


@routes.post("/accounts/{user_id:\\d+}/language")
async def set_language(request: web.Request) -> web.StreamResponse:
    """Choose the language reception speaks to an account."""
    staff = await _admin(request)
    form = await checked_form(request, staff)
    user_id = int(request.match_info["user_id"])
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            await accounts.set_language(session, user_id, form.get("language", ""))
        except wording.UnknownLanguage as exc:
            return await _page(request, staff, error=wording.describe(exc), status=422)
        except accounts.AccountNotFound as exc:
            title = wording.text("page_no_such_account")
            return error_page(request, 404, title, wording.describe(exc))
    raise web.HTTPSeeOther("/accounts?done=language")


@routes.post("/account/language", name="own_language")
async def set_own_language(request: web.Request) -> web.StreamResponse:
    """Choose the language reception speaks to me, then go back to the page I was on."""
    staff = await require_staff(request)
    form = await checked_form(request, staff)
    async with request.app[SESSIONMAKER_KEY]() as session:
        try:
            user = await accounts.set_language(session, staff.user.id, form.get("language", ""))
        except wording.UnknownLanguage as exc:
            title = wording.text("page_unknown_language")
            return error_page(request, 422, title, wording.describe(exc))
    wording.speak(user.language)
    raise web.HTTPSeeOther(safe_next(form.get("next")))


async def _admin(request: web.Request) -> Staff:
    """Return the signed-in admin, or refuse."""
    staff = await require_staff(request)
    require_admin(request, staff)
    return staff


async def _page(
    request: web.Request,
    staff: Staff,
    *,
    notice: str | None = None,
    error: str | None = None,
    draft: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """Render the accounts page."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        users = await accounts.list_users(session)
    return render(
        request,
        "accounts.html",
        status=status,
        staff=staff,
        csrf_token=staff.csrf_token,
        users=users,
        roles=[role.value for role in StaffRole],
        languages=wording.LANGUAGES,
        notice=notice,
        error=error,
        draft=draft or _empty_draft(),
    )


def _empty_draft() -> dict[str, str]:
    """The new-account form as it first shows: a reception account, in English."""
    return {
        "email": "",
        "name": "",
        "role": StaffRole.RECEPTION.value,
        "language": wording.DEFAULT_LANGUAGE,
    }


def _problem(exc: Exception) -> str:
    """Say which field of the new account is wrong."""
    if isinstance(exc, WeakPassword | wording.UnknownLanguage):
        return wording.describe(exc)
    if isinstance(exc, ValidationError):
        return wording.text("account_details_invalid", maximum=TEXT_LENGTH)
    return wording.text("account_role_invalid")

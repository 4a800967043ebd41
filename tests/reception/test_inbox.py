"""The staff inbox pages: login, the list and its feed, the ticket page and its actions, roles."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from markupsafe import escape
from yarl import URL

from reception.access_log import PathOnlyAccessLogger
from reception.models import StaffRole
from reception.pages import CONTENT_SECURITY_POLICY, age
from reception.staff_auth import SESSION_COOKIE
from tests.reception.support import (
    TICKETS,
    Client,
    FakeBot,
    StaffBrowser,
    add_staff,
    create_ticket,
)

XSS = "<script>alert('x')</script>"


def page_of(reference: str) -> str:
    """Return the inbox path of a ticket."""
    return f"/inbox/tickets/{reference}"


def listed_references(text: str) -> list[str]:
    """Return the references of the ticket rows of a list page, in order."""
    return re.findall(r'<tr class="status-[a-z_]+" data-reference="([^"]+)"', text)


async def stored(client: Client, headers: dict[str, str], reference: str) -> dict[str, Any]:
    """Return a ticket's JSON through the API."""
    return await (await client.get(f"{TICKETS}/{reference}", headers=headers)).json()


async def test_root_and_inbox_send_strangers_to_the_login(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/inbox")
    response = await client.get("/inbox?status=all", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert (location.path, location.query["next"]) == ("/login", "/inbox?status=all")
    response = await client.get("/inbox/tickets.json")
    assert response.status == 401


async def test_login_sets_a_safe_cookie_and_goes_where_the_user_was_heading(
    client: Client,
) -> None:
    await add_staff(client, "ana@example.org")
    staff = StaffBrowser(client)
    try:
        await staff.get("/login?next=/inbox%3Fstatus%3Dall")
        response, _ = await staff.post(
            "/login",
            {
                "email": "ANA@example.org",
                "password": "correct horse battery staple",
                "next": "/inbox?status=all",
            },
        )
        assert (response.status, response.headers["Location"]) == (303, "/inbox?status=all")
        cookie = response.cookies[SESSION_COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        response, text = await staff.get("/inbox")
        assert response.status == 200
        assert "ana@example.org" in text
    finally:
        await staff.close()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
async def test_login_never_redirects_elsewhere(client: Client, target: str) -> None:
    await add_staff(client, "ana@example.org")
    staff = StaffBrowser(client)
    try:
        await staff.get("/login")
        response, _ = await staff.post(
            "/login",
            {
                "email": "ana@example.org",
                "password": "correct horse battery staple",
                "next": target,
            },
        )
        assert (response.status, response.headers["Location"]) == (303, "/inbox")
    finally:
        await staff.close()


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.org", "wrong password!!"), ("who@example.org", "correct horse battery staple")],
)
async def test_wrong_credentials_are_401_with_a_message(
    client: Client, email: str, password: str
) -> None:
    await add_staff(client, "ana@example.org")
    staff = StaffBrowser(client)
    try:
        await staff.get("/login")
        response, text = await staff.post("/login", {"email": email, "password": password})
        assert response.status == 401
        assert "The e-mail or the password is wrong" in text
        assert staff.cookie(SESSION_COOKIE) is None
    finally:
        await staff.close()


async def test_login_without_its_csrf_token_is_refused(client: Client) -> None:
    await add_staff(client, "ana@example.org")
    staff = StaffBrowser(client)
    try:
        response, text = await staff.post(
            "/login",
            {"email": "ana@example.org", "password": "correct horse battery staple"},
            csrf=False,
        )
        assert response.status == 403
        assert "expired" in text
        assert staff.cookie(SESSION_COOKIE) is None
    finally:
        await staff.close()


async def test_forged_or_replayed_session_cookies_do_not_sign_in(
    client: Client, browser: StaffBrowser
) -> None:
    token = browser.cookie(SESSION_COOKIE)
    assert token is not None
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = await client.get("/inbox", cookies={SESSION_COOKIE: forged}, allow_redirects=False)
    assert response.status == 303

    await browser.get("/inbox")
    response, _ = await browser.post("/logout", {})
    assert (response.status, response.headers["Location"]) == (303, "/login")
    replay = await client.get("/inbox", cookies={SESSION_COOKIE: token}, allow_redirects=False)
    assert replay.status == 303


async def test_logout_needs_the_csrf_token(browser: StaffBrowser) -> None:
    response, _ = await browser.post("/logout", {}, csrf=False)
    assert response.status == 403
    response, _ = await browser.get("/inbox", allow_redirects=False)
    assert response.status == 200


async def test_list_shows_new_tickets_first_and_filters(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    first = (await create_ticket(client, auth_headers))["reference"]
    second = (await create_ticket(client, auth_headers, department="lung_clinic"))["reference"]
    await client.patch(f"{TICKETS}/{second}", json={"status": "in_progress"}, headers=auth_headers)
    third = (
        await create_ticket(
            client, auth_headers, contact={"name": "Bob Stone", "phone": "0470123456"}
        )
    )["reference"]

    _, text = await browser.get("/inbox")
    assert listed_references(text) == [third, first, second]
    assert 'new ones first: <span id="ticket-total">3</span>' in text
    _, text = await browser.get("/inbox?status=in_progress")
    assert listed_references(text) == [second]
    _, text = await browser.get("/inbox?department=lung_clinic")
    assert listed_references(text) == [second]
    _, text = await browser.get("/inbox?q=stone")
    assert listed_references(text) == [third]
    _, text = await browser.get(f"/inbox?q={first}")
    assert listed_references(text) == [first]
    _, text = await browser.get("/inbox?status=bogus&page=zero")
    assert listed_references(text) == [third, first, second]

    await client.patch(f"{TICKETS}/{first}", json={"status": "cancelled"}, headers=auth_headers)
    _, text = await browser.get("/inbox")
    assert listed_references(text) == [third, second]
    _, text = await browser.get("/inbox?status=all")
    assert listed_references(text) == [third, second, first]


async def test_the_feed_shows_a_new_ticket_and_changes_its_signature(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    response, _ = await browser.get("/inbox/tickets.json")
    before = await response.json()
    assert (before["rows"], before["total"]) == ([], 0)
    reference = (await create_ticket(client, auth_headers))["reference"]
    response, _ = await browser.get("/inbox/tickets.json?status=open")
    after = await response.json()
    assert after["total"] == 1
    assert after["signature"] != before["signature"]
    row = after["rows"][0]
    assert (row["reference"], row["url"], row["status"]) == (
        reference,
        f"/inbox/tickets/{reference}",
        "new",
    )
    assert (row["name"], row["missing_records"], row["age"]) == ("Ada Example", 1, "just now")


async def test_ticket_page_shows_everything_and_escapes_patient_text(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    transcript = [{"at": "2026-03-01T09:00:00Z", "sender": "patient", "text": XSS}]
    contact = {"name": XSS, "phone": "+32 470 12 34 56", "preferred_time": "mornings"}
    ticket = await create_ticket(client, auth_headers, transcript=transcript, contact=contact)
    await client.post(
        f"{TICKETS}/{ticket['reference']}/notes", json={"text": XSS}, headers=auth_headers
    )
    response, text = await browser.get(page_of(ticket["reference"]))
    assert response.status == 200
    assert "<script>alert" not in text
    assert text.count(str(escape(XSS))) == 3  # name, transcript, note
    for fact in ["Breast clinic", "Just diagnosed", "In Belgium", "+32 470 12 34 56", "mornings"]:
        assert fact in text, fact
    assert "1 of 3 still missing" in text
    assert 'class="record-not_yet missing"' in text
    assert "Created (request)" in text
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_every_input_has_a_label(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    for path in ["/inbox", page_of(reference)]:
        _, text = await browser.get(path)
        fields = re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', text
        )
        assert fields, path
        for field in fields:
            assert f'<label for="{field}">' in text, (path, field)


async def test_change_status_assign_and_note_from_the_page(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    await browser.get(page_of(reference))

    response, _ = await browser.post(f"{page_of(reference)}/status", {"status": "in_progress"})
    assert (response.status, response.headers["Location"]) == (
        303,
        f"{page_of(reference)}?done=status#notice",
    )
    response, _ = await browser.post(f"{page_of(reference)}/assignee", {"assignee": "me"})
    assert response.status == 303
    response, _ = await browser.post(f"{page_of(reference)}/notes", {"text": "Call back Monday"})
    assert response.status == 303

    ticket = await stored(client, auth_headers, reference)
    assert (ticket["status"], ticket["assignee"]) == ("in_progress", "reception@example.org")
    assert [note["text"] for note in ticket["notes"]] == ["Call back Monday"]
    assert {note["author"] for note in ticket["notes"]} == {"reception@example.org"}
    history = await client.get(f"{TICKETS}/{reference}/history", headers=auth_headers)
    staff_events = [e for e in (await history.json())["items"] if e["actor_type"] == "staff"]
    assert [(e["action"], e["actor"]) for e in staff_events] == [
        ("status_changed", "reception@example.org"),
        ("assignee_changed", "reception@example.org"),
        ("note_added", "reception@example.org"),
    ]

    _, text = await browser.get(f"{page_of(reference)}?done=note")
    assert "Note added." in text
    assert "Unassign me" in text
    response, _ = await browser.post(f"{page_of(reference)}/assignee", {"assignee": "nobody"})
    assert (await stored(client, auth_headers, reference))["assignee"] is None


async def test_a_forbidden_status_change_explains_itself(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    await browser.get(page_of(reference))
    response, text = await browser.post(f"{page_of(reference)}/status", {"status": "closed"})
    assert response.status == 409
    assert "cannot move to &#39;closed&#39;" in text
    response, text = await browser.post(f"{page_of(reference)}/status", {"status": "lost"})
    assert response.status == 422
    assert (await stored(client, auth_headers, reference))["status"] == "new"


async def test_message_the_patient_from_the_page(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, fake_bot: FakeBot
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    await browser.get(page_of(reference))
    response, _ = await browser.post(f"{page_of(reference)}/messages", {"text": XSS})
    assert response.status == 303
    assert fake_bot.deliveries[0]["text"] == XSS
    _, text = await browser.get(f"{page_of(reference)}?done=message")
    assert "Message delivered to the patient." in text
    assert str(escape(XSS)) in text
    assert (await stored(client, auth_headers, reference))["transcript"][-1]["sender"] == "staff"


async def test_a_failed_message_keeps_the_draft_and_says_why(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, fake_bot: FakeBot
) -> None:
    fake_bot.status = 422  # the bot refuses the message itself: trying again cannot help
    ticket = await create_ticket(client, auth_headers)
    await browser.get(page_of(ticket["reference"]))
    response, text = await browser.post(
        f"{page_of(ticket['reference'])}/messages", {"text": "Please call us"}
    )
    assert response.status == 502
    assert "so it was not sent" in text
    assert ">Please call us</textarea>" in text
    after = await stored(client, auth_headers, ticket["reference"])
    assert after["transcript"] == ticket["transcript"]


@pytest.mark.parametrize("token", [None, "", "wrong"])
async def test_forms_without_the_right_csrf_token_are_403(
    client: Client, auth_headers: dict[str, str], browser: StaffBrowser, token: str | None
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    form = (
        {"status": "in_progress"}
        if token is None
        else {"status": "in_progress", "csrf_token": token}
    )
    response, text = await browser.post(f"{page_of(reference)}/status", form, csrf=False)
    assert response.status == 403
    assert "This form has expired" in text
    assert (await stored(client, auth_headers, reference))["status"] == "new"


async def test_unknown_ticket_page_is_404(browser: StaffBrowser) -> None:
    response, text = await browser.get(page_of("SO-2026-99999"))
    assert response.status == 404
    assert "No ticket has this reference." in text
    await browser.get("/inbox")
    response, _ = await browser.post(f"{page_of('SO-2026-99999')}/notes", {"text": "hi"})
    assert response.status == 404


async def test_an_editor_can_look_but_not_touch(
    client: Client, auth_headers: dict[str, str]
) -> None:
    await add_staff(client, "ed@example.org", StaffRole.EDITOR)
    reference = (await create_ticket(client, auth_headers))["reference"]
    editor = StaffBrowser(client)
    try:
        assert (await editor.login("ed@example.org")).status == 303
        response, text = await editor.get(page_of(reference))
        assert response.status == 200
        assert "Change status" not in text
        for action, form in [
            ("status", {"status": "in_progress"}),
            ("assignee", {"assignee": "me"}),
            ("notes", {"text": "x"}),
            ("messages", {"text": "x"}),
        ]:
            response, text = await editor.post(f"{page_of(reference)}/{action}", form)
            assert response.status == 403, action
            assert "can view tickets only" in text
        response, _ = await editor.get("/accounts")
        assert response.status == 403
    finally:
        await editor.close()
    assert (await stored(client, auth_headers, reference))["status"] == "new"


async def test_only_admins_manage_accounts(client: Client, browser: StaffBrowser) -> None:
    response, text = await browser.get("/accounts")
    assert response.status == 403
    assert "Only an admin" in text
    response, _ = await browser.post("/accounts", {"email": "x@example.org", "role": "admin"})
    assert response.status == 403


async def test_admin_creates_and_deactivates_accounts(client: Client) -> None:
    await add_staff(client, "admin@example.org", StaffRole.ADMIN)
    admin, newcomer = StaffBrowser(client), StaffBrowser(client)
    try:
        assert (await admin.login("admin@example.org")).status == 303
        response, text = await admin.get("/accounts")
        assert response.status == 200
        new = {"email": "Zoe@Example.org", "name": "Zoë", "role": "reception"}
        response, _ = await admin.post("/accounts", {**new, "password": "a fine long password"})
        assert (response.status, response.headers["Location"]) == (303, "/accounts?done=created")
        response, text = await admin.post("/accounts", {**new, "password": "a fine long password"})
        assert response.status == 409
        assert "already exists" in text
        response, text = await admin.post(
            "/accounts", {**new, "email": "b@example.org", "password": "short"}
        )
        assert response.status == 422
        assert "at least 12 characters" in text
        response, text = await admin.post(
            "/accounts",
            {**new, "email": "c@example.org", "role": "boss", "password": "a fine long password"},
        )
        assert response.status == 422

        assert (await newcomer.login("zoe@example.org", "a fine long password")).status == 303
        assert (await newcomer.get("/inbox"))[0].status == 200

        _, text = await admin.get("/accounts")
        zoe_id = re.search(r'action="/accounts/(\d+)/active"', text)
        assert zoe_id is not None
        response, _ = await admin.post(f"/accounts/{zoe_id.group(1)}/active", {"active": "0"})
        assert response.status == 303
        response, _ = await newcomer.get("/inbox", allow_redirects=False)
        assert response.status == 303
        assert (await newcomer.login("zoe@example.org", "a fine long password")).status == 401
    finally:
        await admin.close()
        await newcomer.close()


async def test_an_admin_cannot_lock_themself_out(client: Client) -> None:
    admin_id = await add_staff(client, "admin@example.org", StaffRole.ADMIN)
    admin = StaffBrowser(client)
    try:
        await admin.login("admin@example.org")
        await admin.get("/accounts")
        response, text = await admin.post(f"/accounts/{admin_id}/active", {"active": "0"})
        assert response.status == 409
        assert "your own account" in text
    finally:
        await admin.close()


async def test_static_files_are_served_with_the_csp(client: Client) -> None:
    for path in ["/static/inbox.js", "/static/inbox.css"]:
        response = await client.get(path)
        assert response.status == 200
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    script = await (await client.get("/static/inbox.js")).text()
    assert "innerHTML" not in script


def test_the_access_log_leaves_out_query_strings_and_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.access")
    access_log = PathOnlyAccessLogger(logger, "")
    request = make_mocked_request(
        "GET", "/inbox?q=Zebedee+Quill", headers={"Referer": "http://x/inbox?q=Zebedee"}
    )
    with caplog.at_level(logging.INFO, logger="test.access"):
        access_log.log(request, web.Response(status=200), 0.012)
    assert caplog.messages == ["GET /inbox 200 0.012s"]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, "just now"),
        (5, "5 min"),
        (59, "59 min"),
        (60, "1 h"),
        (47 * 60, "47 h"),
        (3 * 1440, "3 d"),
    ],
)
def test_ages_read_briefly(minutes: int, expected: str) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert age(now - timedelta(minutes=minutes, seconds=30), now) == expected

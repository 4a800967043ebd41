"""Failed logins are limited per e-mail and per address; a locked-out login is 429 unchecked."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse

from reception import accounts
from reception.models import StaffRole
from reception.pages import CONTENT_SECURITY_POLICY
from reception.settings import Settings
from reception.staff_auth import SESSION_COOKIE
from tests.reception.conftest import API_TOKEN, SESSION_SECRET
from tests.reception.support import PASSWORD, Client, FakeBot, StaffBrowser, add_staff, serve

WRONG = "not the right password"


@pytest.fixture
def settings(database_url: str, fake_bot: FakeBot) -> Settings:
    """Reception that allows 3 failures per e-mail and 5 per address in 15 minutes."""
    return Settings(
        api_token=API_TOKEN,
        session_secret=SESSION_SECRET,
        database_url=database_url,
        bot_url=fake_bot.url,
        login_attempts_per_email=3,
        login_attempts_per_address=5,
        login_window_seconds=900,
    )


@pytest.fixture
async def staff(client: Client) -> AsyncIterator[StaffBrowser]:
    """A browser with two accounts to log in to."""
    await add_staff(client, "ana@example.org")
    await add_staff(client, "bo@example.org", StaffRole.ADMIN)
    browser = StaffBrowser(client)
    yield browser
    await browser.close()


async def attempt(browser: StaffBrowser, email: str, password: str) -> tuple[ClientResponse, str]:
    """Open the login form and submit it."""
    await browser.get("/login")
    return await browser.post("/login", {"email": email, "password": password})


async def test_failures_for_one_email_lock_it_out_even_with_the_right_password(
    staff: StaffBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for email in ("ana@example.org", "ANA@example.org", " ana@example.org "):
        response, _ = await attempt(staff, email, WRONG)
        assert response.status == 401

    checked: list[str] = []
    real = accounts.authenticate

    async def spy(session: object, email: str, password: str) -> object:
        """Note that a password was checked."""
        checked.append(email)
        return await real(session, email, password)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts, "authenticate", spy)
    response, text = await attempt(staff, "ana@example.org", PASSWORD)
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 900
    assert "Too many failed logins" in text
    assert "Try again in 15 minutes." in text
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert staff.cookie(SESSION_COOKIE) is None
    assert checked == []

    response, _ = await attempt(staff, "bo@example.org", PASSWORD)  # another e-mail still works
    assert response.status == 303
    assert checked == ["bo@example.org"]


async def test_failures_from_one_address_lock_out_every_email(staff: StaffBrowser) -> None:
    for number in range(5):
        response, _ = await attempt(staff, f"guess{number}@example.org", WRONG)
        assert response.status == 401
    for email in ("ana@example.org", "bo@example.org"):
        response, text = await attempt(staff, email, PASSWORD)
        assert response.status == 429
        assert "Too many failed logins" in text
    assert staff.cookie(SESSION_COOKIE) is None


async def test_successful_logins_do_not_count(staff: StaffBrowser) -> None:
    for _ in range(2):
        assert (await attempt(staff, "ana@example.org", WRONG))[0].status == 401
    for _ in range(4):
        fresh = StaffBrowser(staff.client)  # each success signs in a browser of its own
        try:
            assert (await attempt(fresh, "ana@example.org", PASSWORD))[0].status == 303
        finally:
            await fresh.close()
    assert (await attempt(staff, "ana@example.org", WRONG))[0].status == 401  # the third failure
    assert (await attempt(staff, "ana@example.org", PASSWORD))[0].status == 429


async def test_a_form_without_its_csrf_token_is_not_a_failed_login(staff: StaffBrowser) -> None:
    for _ in range(5):
        response, _ = await staff.post(
            "/login", {"email": "ana@example.org", "password": WRONG}, csrf=False
        )
        assert response.status == 403
    assert (await attempt(staff, "ana@example.org", PASSWORD))[0].status == 303


async def test_the_lock_out_ends_with_the_window(settings: Settings) -> None:
    short = dataclasses.replace(settings, login_window_seconds=1)
    async with serve(short) as quick:
        await add_staff(quick, "ana@example.org")
        browser = StaffBrowser(quick)
        try:
            for _ in range(3):
                assert (await attempt(browser, "ana@example.org", WRONG))[0].status == 401
            response, text = await attempt(browser, "ana@example.org", PASSWORD)
            assert (response.status, response.headers["Retry-After"]) == (429, "1")
            assert "Try again in 1 minute." in text
            await asyncio.sleep(1.1)
            assert (await attempt(browser, "ana@example.org", PASSWORD))[0].status == 303
        finally:
            await browser.close()


async def test_parallel_guesses_cannot_slip_past_the_limit(client: Client) -> None:
    await add_staff(client, "ana@example.org")
    browsers = [StaffBrowser(client) for _ in range(10)]
    try:
        for browser in browsers:
            await browser.get("/login")
        answers = await asyncio.gather(
            *(
                browser.post("/login", {"email": "ana@example.org", "password": WRONG})
                for browser in browsers
            )
        )
    finally:
        for browser in browsers:
            await browser.close()
    statuses = sorted(response.status for response, _ in answers)
    assert statuses == [401] * 3 + [429] * 7

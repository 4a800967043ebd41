"""Each staff account reads reception in its own language: English, French or Dutch."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from sqlalchemy import inspect, select, text

from reception import wording
from reception.appkeys import SESSIONMAKER_KEY
from reception.db import create_engine
from reception.migrate import downgrade, upgrade
from reception.models import StaffRole, StaffUser
from tests.reception.support import Client, StaffBrowser, add_staff, create_ticket

PAGES = ["/inbox", "/reports", "/accounts", "/content", "/content/gaps"]
# A few phrases of the inbox, and of a ticket's page, as each language says them.
INBOX = {
    "fr": ["Boîte de réception", "Tous les services", "Se déconnecter", "Nouveau"],
    "nl": ["Postvak", "Alle diensten", "Afmelden", "Nieuw"],
}
TICKET = {
    "fr": ["Retour à la boîte de réception", "Liste des documents", "Ajouter la note"],
    "nl": ["Terug naar het postvak", "Lijst van documenten", "Notitie toevoegen"],
}
ENGLISH = ["Log out", "All departments", "Back to the inbox", "Add note"]


def said(code: str, spoken: str, /, **data: object) -> str:
    """A wording as a page shows it in a language: rendered, then escaped as HTML."""
    with wording.speaking(spoken):
        return str(escape(wording.text(code, **data)))


async def signed_in(client: Client, email: str, language: str, role: StaffRole) -> StaffBrowser:
    """Create an account in a language and return its signed-in browser."""
    await add_staff(client, email, role, language=language)
    browser = StaffBrowser(client)
    assert (await browser.login(email)).status == 303
    return browser


async def language_of(client: Client, email: str) -> str:
    """The language an account has in the database."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.email == email))
    assert user is not None
    return user.language


@pytest.mark.parametrize("language", ["fr", "nl"])
async def test_an_account_reads_the_inbox_and_a_ticket_in_its_language(
    client: Client, auth_headers: dict[str, str], language: str
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    browser = await signed_in(client, f"{language}@example.org", language, StaffRole.RECEPTION)
    try:
        response, inbox = await browser.get("/inbox")
        assert response.status == 200
        assert f'<html lang="{language}">' in inbox
        for phrase in INBOX[language]:
            assert phrase in inbox, phrase
        _, ticket = await browser.get(f"/inbox/tickets/{reference}")
        assert f'<html lang="{language}">' in ticket
        for phrase in TICKET[language]:
            assert phrase in ticket, phrase
        for phrase in ENGLISH:
            assert phrase not in inbox + ticket, phrase
        response, _ = await browser.get("/inbox/tickets.json")
        [row] = (await response.json())["rows"]
        assert row["status_label"] == INBOX[language][-1]
    finally:
        await browser.close()


@pytest.mark.parametrize("language", wording.LANGUAGES)
async def test_every_staff_page_renders_in_every_language(
    client: Client, auth_headers: dict[str, str], language: str
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    admin = await signed_in(client, "admin@example.org", language, StaffRole.ADMIN)
    try:
        for path in [*PAGES, f"/inbox/tickets/{reference}"]:
            response, page = await admin.get(path)
            assert response.status == 200, path
            assert f'<html lang="{language}">' in page, path
            with wording.speaking(language):
                log_out = wording.table("base_words")["log_out"]
            assert str(escape(log_out)) in page, path
    finally:
        await admin.close()


async def test_staff_change_their_own_language_and_stay_on_their_page(client: Client) -> None:
    browser = await signed_in(client, "ana@example.org", "en", StaffRole.RECEPTION)
    try:
        _, page = await browser.get("/reports")
        assert '<html lang="en">' in page
        assert 'action="/account/language"' in page
        assert 'name="next" value="/reports"' in page
        response, _ = await browser.post(
            "/account/language", {"language": "nl", "next": "/reports"}
        )
        assert (response.status, response.headers["Location"]) == (303, "/reports")
        assert await language_of(client, "ana@example.org") == "nl"
        _, page = await browser.get("/reports")
        assert '<html lang="nl">' in page
        assert "Rapporten" in page
        response, _ = await browser.post("/account/language", {"language": "fr"}, csrf=False)
        assert response.status == 403
        assert await language_of(client, "ana@example.org") == "nl"
    finally:
        await browser.close()


async def test_an_unknown_language_is_refused_with_a_clear_message(client: Client) -> None:
    admin = await signed_in(client, "admin@example.org", "fr", StaffRole.ADMIN)
    try:
        refusal = said("language_unknown", "fr", languages=list(wording.LANGUAGES))
        assert "en, fr, nl" in refusal
        await admin.get("/inbox")
        response, page = await admin.post("/account/language", {"language": "de"})
        assert response.status == 422
        assert refusal in page
        assert await language_of(client, "admin@example.org") == "fr"

        user_id = await add_staff(client, "zoe@example.org")
        response, page = await admin.post(f"/accounts/{user_id}/language", {"language": "klingon"})
        assert response.status == 422
        assert refusal in page
        account = {"email": "b@example.org", "role": "reception", "language": "de"}
        response, page = await admin.post("/accounts", {**account, "password": "a long password"})
        assert response.status == 422
        assert refusal in page
    finally:
        await admin.close()


async def test_an_admin_chooses_the_language_of_an_account(client: Client) -> None:
    admin = await signed_in(client, "admin@example.org", "en", StaffRole.ADMIN)
    newcomer = StaffBrowser(client)
    try:
        _, page = await admin.get("/accounts")
        assert '<select id="account-language" name="language">' in page
        account = {"email": "lotte@example.org", "name": "", "role": "reception", "language": "fr"}
        response, _ = await admin.post("/accounts", {**account, "password": "a fine long password"})
        assert (response.status, response.headers["Location"]) == (303, "/accounts?done=created")
        assert (await newcomer.login("lotte@example.org", "a fine long password")).status == 303
        _, page = await newcomer.get("/inbox")
        assert '<html lang="fr">' in page

        _, page = await admin.get("/accounts")
        found = re.search(
            r'action="/accounts/(\d+)/language"(?:(?!</form>).)*lotte@example', page, re.S
        )
        assert found is not None
        response, _ = await admin.post(f"/accounts/{found.group(1)}/language", {"language": "nl"})
        assert (response.status, response.headers["Location"]) == (303, "/accounts?done=language")
        _, page = await admin.get("/accounts?done=language")
        assert "Language changed." in page
        _, page = await newcomer.get("/inbox")
        assert '<html lang="nl">' in page

        await newcomer.get("/inbox")
        response, _ = await newcomer.post(
            f"/accounts/{found.group(1)}/language", {"language": "en"}
        )
        assert response.status == 403
        assert await language_of(client, "lotte@example.org") == "nl"
    finally:
        await admin.close()
        await newcomer.close()


@pytest.mark.parametrize(
    ("accept", "language", "heading"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr", "Connexion à l&#39;accueil"),
        ("nl-BE,nl;q=0.9", "nl", "Aanmelden bij het onthaal"),
        ("de-DE,de;q=0.9", "en", "Log in to reception"),
        ("", "en", "Log in to reception"),
    ],
)
async def test_the_login_page_speaks_the_browser_s_language(
    client: Client, accept: str, language: str, heading: str
) -> None:
    browser = StaffBrowser(client)
    try:
        headers = {"Accept-Language": accept} if accept else {}
        response, page = await browser.get("/login", headers=headers)
        assert response.status == 200
        assert f'<html lang="{language}">' in page
        assert heading in page
        form = {"email": "nobody@example.org", "password": "not the password"}
        response, page = await browser.post("/login", form, headers=headers)
        assert response.status == 401
        assert said("login_refused", language) in page
    finally:
        await browser.close()


async def test_the_api_speaks_english_whatever_the_browser_says(
    client: Client, auth_headers: dict[str, str]
) -> None:
    headers = {**auth_headers, "Accept-Language": "fr"}
    response = await client.get("/api/v1/tickets/SO-2026-99999", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"]["message"] == "No ticket has this reference."


async def test_canned_replies_are_translated_into_the_account_s_language(
    client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers, language="fr"))["reference"]
    browser = await signed_in(client, "nl@example.org", "nl", StaffRole.RECEPTION)
    try:
        url = f"/inbox/tickets/{reference}"
        _, page = await browser.get(url)
        data = re.search(r'<script type="application/json" id="replies-data">(.*?)</script>', page)
        assert data is not None
        records = json.loads(data.group(1))["records"]
        assert records["text"].startswith("Bonjour Ada Example")
        assert records["translation"].startswith("Dag Ada Example, om uw consultatie")
        assert "<code>/records</code> Documenten ontbreken nog" in page
        _, chosen = await browser.get(url, params={"reply": "records"})
        assert said("ticket_reply_translation", "nl", language="Nederlands") in chosen

        french = await signed_in(client, "fr@example.org", "fr", StaffRole.RECEPTION)
        try:
            _, page = await french.get(url)
            data = re.search(r'id="replies-data">(.*?)</script>', page)
            assert data is not None
            assert json.loads(data.group(1))["records"]["translation"] is None
        finally:
            await french.close()
    finally:
        await browser.close()


async def test_0010_gives_existing_accounts_english_and_goes_back(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO staff_users (email, role, password_hash, active, created_at)"
                    " VALUES ('ana@example.org', 'reception', 'x', :active, :created)"
                ),
                {"active": True, "created": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        await upgrade(engine, "0010")
        async with engine.connect() as connection:
            found = await connection.scalar(text("SELECT language FROM staff_users"))
        assert found == "en"
        await downgrade(engine, "0009")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in inspect(sync).get_columns("staff_users")}
            )
        assert "language" not in columns
        assert "email" in columns
    finally:
        await downgrade(engine)
        await engine.dispose()

"""Every route the app registers is closed to strangers, and every answer has the security headers.

The routes are read from the app's router, so a route added later is covered without a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from yarl import URL

from reception import queries
from reception.models import StaffRole
from reception.pages import CONTENT_SECURITY_POLICY
from tests.reception.support import (
    TICKETS,
    Client,
    StaffBrowser,
    add_staff,
    create_ticket,
    ticket_body,
)

PUBLIC = ("/login", "/healthz")
STATIC_PREFIX = "/static"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Route:
    """One method on one concrete path of the app."""

    method: str
    path: str

    @property
    def is_api(self) -> bool:
        """Tell whether the route belongs to the REST API."""
        return self.path.startswith("/api/")


def registered_routes(app: web.Application, values: dict[str, str]) -> list[Route]:
    """Return every route but the static files, with its path parameters filled in."""
    routes = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or resource.canonical.startswith(STATIC_PREFIX):
            continue
        info = resource.get_info()
        if "pattern" in info:
            names = info["pattern"].groupindex
            path = str(resource.url_for(**{name: values[name] for name in names}))
        else:
            path = info["path"]
        routes.append(Route(route.method, path))
    return routes


@pytest.fixture
async def routes(client: Client, auth_headers: dict[str, str]) -> list[Route]:
    """Every route, pointed at a ticket and an account that exist."""
    reference = (await create_ticket(client, auth_headers))["reference"]
    user_id = await add_staff(client, "admin@example.org", StaffRole.ADMIN)
    values = {
        "reference": reference,
        "user_id": str(user_id),
        "reminder": "1",
        "chart": "funnel",
        "attachment_id": "00000000-0000-0000-0000-000000000000",
        "token": "not-a-token",
        "series_uid": "1.2.3",
    }
    found = registered_routes(client.app, values)
    assert {"/api/v1/erasures", "/inbox", "/accounts", "/content", "/logout"} <= {
        route.path for route in found
    }
    return found


async def call(client: Client, route: Route, headers: dict[str, str]) -> ClientResponse:
    """Send a request a stranger might send: a JSON body to the API, a form to the pages."""
    body: dict[str, Any] = {}
    if route.method in ("POST", "PATCH", "PUT"):
        if route.is_api:
            body["json"] = {**ticket_body(), "text": "hello"}
        else:
            body["data"] = {"csrf_token": "guess", "text": "hello", "status": "closed"}
    return await client.request(
        route.method, route.path, headers=headers, allow_redirects=False, **body
    )


def assert_secured(response: ClientResponse, what: str) -> None:
    """Check that a response carries the security headers."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (what, name)


async def test_every_api_route_needs_the_token(client: Client, routes: list[Route]) -> None:
    api = [route for route in routes if route.is_api]
    assert len(api) >= 9
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}):
        for route in api:
            response = await call(client, route, headers)
            assert response.status == 401, (route, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert_secured(response, f"{route} {headers}")


async def test_no_staff_page_opens_to_a_stranger(client: Client, routes: list[Route]) -> None:
    pages = [r for r in routes if not r.is_api and r.path not in PUBLIC]
    assert len(pages) >= 15
    for route in pages:
        response = await call(client, route, {})
        assert_secured(response, str(route))
        for _ in range(MAX_REDIRECTS):
            if response.status != 303:
                break
            target = URL(response.headers["Location"])
            if target.path == "/login":
                break
            response = await client.get(target.path, allow_redirects=False)
        if response.status == 303:
            assert URL(response.headers["Location"]).path == "/login", route
        else:
            assert response.status in (401, 403), (route, response.status)


async def test_every_kind_of_answer_has_the_security_headers(
    client: Client,
    auth_headers: dict[str, str],
    browser: StaffBrowser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    answers: list[tuple[str, int, ClientResponse]] = []

    async def stranger(method: str, path: str, status: int, **kwargs: Any) -> None:
        """Send a request without a session and keep its answer."""
        response = await client.request(method, path, allow_redirects=False, **kwargs)
        answers.append((f"{method} {path}", status, response))

    async def staff(path: str, status: int) -> None:
        """Fetch a page as the signed-in reception member and keep its answer."""
        response, _ = await browser.get(path, allow_redirects=False)
        answers.append((f"staff GET {path}", status, response))

    await staff("/inbox", 200)
    await staff(f"/inbox/tickets/{reference}", 200)
    await staff("/inbox/tickets/SO-2026-99999", 404)
    await staff("/accounts", 403)
    await staff("/inbox/tickets.json", 200)
    await stranger("GET", "/login", 200)
    await stranger("POST", "/login", 403, data={"email": "a@example.org"})
    await stranger("GET", "/", 303)
    await stranger("GET", "/inbox", 303)
    await stranger("GET", "/nowhere", 404)
    await stranger("GET", "/static/inbox.css", 200)
    await stranger("GET", "/static/inbox.js", 200)
    await stranger("GET", "/static/missing.css", 404)
    await stranger("GET", "/healthz", 200)
    await stranger("GET", TICKETS, 200, headers=auth_headers)
    await stranger("POST", TICKETS, 201, headers=auth_headers, json=ticket_body())
    await stranger("POST", TICKETS, 422, headers=auth_headers, json={})
    await stranger("POST", TICKETS, 415, headers=auth_headers, data="x")
    await stranger("DELETE", TICKETS, 405, headers=auth_headers)
    await stranger("GET", f"{TICKETS}/SO-2026-99999", 404, headers=auth_headers)
    await stranger("GET", "/api/v1/nowhere", 404, headers=auth_headers)
    await stranger("GET", "/api/v1/openapi.json", 200, headers=auth_headers)
    await stranger("GET", TICKETS, 401)
    body = {"channel": "telegram", "channel_address": "nobody"}
    await stranger("POST", "/api/v1/erasures", 200, headers=auth_headers, json=body)

    login = StaffBrowser(client)
    try:
        for expected in (401, 401, 401, 401, 401, 429):
            await login.get("/login")
            response, _ = await login.post(
                "/login", {"email": "reception@example.org", "password": "wrong password!"}
            )
            answers.append(("POST /login with a wrong password", expected, response))
    finally:
        await login.close()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        """Fail like a database that went away."""
        raise RuntimeError("the database went away")

    monkeypatch.setattr(queries, "list_tickets", broken)
    await staff("/inbox", 500)
    await stranger("GET", TICKETS, 500, headers=auth_headers)

    for what, status, response in answers:
        assert response.status == status, what
        assert_secured(response, what)

"""The reports page: anonymous figures over a period, each an SVG chart beside its table and CSV.

The tickets are made through the API at moments set with time-machine, and the page is read
as a member of staff signed in at a later moment, so every figure below is exact.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from reception.appkeys import CONTENT_KEY, SESSIONMAKER_KEY
from reception.charts import SVG_NAMESPACE, bar_width
from reception.funnel import STEPS
from reception.models import FunnelCount, StaffRole, TopicCount
from tests.reception.support import (
    TICKETS,
    Client,
    StaffBrowser,
    add_staff,
    create_ticket,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
CHARTS = (
    "requests",
    "before_handoff",
    "funnel",
    "first_contact",
    "waiting",
    "complete",
    "topics",
    "gaps",
)
PERIOD = "from=2027-01-04&to=2027-01-24"
EVERY_RECORD = {"reports": "have", "imaging": "have", "pathology": "have"}
SVG = f"{{{SVG_NAMESPACE}}}"


def brussels(moment: str) -> datetime:
    """A moment written in Brussels time."""
    return datetime.fromisoformat(moment).replace(tzinfo=BRUSSELS)


@asynccontextmanager
async def signed_in(
    client: Client, at: str, role: StaffRole = StaffRole.RECEPTION
) -> AsyncIterator[StaffBrowser]:
    """Sign in a member of staff with this role at a moment in Brussels time, and stay then."""
    with time_machine.travel(brussels(at), tick=False):
        email = f"{role.value}@example.org"
        await add_staff(client, email, role)
        staff = StaffBrowser(client)
        try:
            assert (await staff.login(email)).status == 303
            yield staff
        finally:
            await staff.close()


async def ticket_at(client: Client, headers: dict[str, str], at: str, **overrides: Any) -> str:
    """Hand off a ticket at a moment in Brussels time and return its reference."""
    with time_machine.travel(brussels(at), tick=False):
        return str((await create_ticket(client, headers, **overrides))["reference"])


async def move(
    client: Client, headers: dict[str, str], reference: str, at: str, *statuses: str
) -> None:
    """Move a ticket through statuses at a moment in Brussels time."""
    with time_machine.travel(brussels(at), tick=False):
        for status in statuses:
            response = await client.patch(
                f"{TICKETS}/{reference}", json={"status": status}, headers=headers
            )
            assert response.status == 200, await response.text()


async def ask_at(client: Client, headers: dict[str, str], at: str, language: str) -> None:
    """Report a question the assistant did not understand, at a moment in Brussels time."""
    body = {"text": "Can my dog come along?", "language": language, "intent": "nlu_fallback"}
    with time_machine.travel(brussels(at), tick=False):
        response = await client.post("/api/v1/gaps", json=body, headers=headers)
        assert response.status == 201, await response.text()


async def topic_at(
    client: Client, headers: dict[str, str], at: str, topic: str, language: str
) -> None:
    """Count a question answered from an FAQ topic, at a moment in Brussels time."""
    with time_machine.travel(brussels(at), tick=False):
        response = await client.post(
            "/api/v1/topics-asked", json={"topic": topic, "language": language}, headers=headers
        )
        assert response.status == 200, await response.text()


async def hand_off_a_month(client: Client, headers: dict[str, str]) -> dict[str, str]:
    """Four breast-clinic requests over weeks 2 and 3 of 2027, worked by reception, and more.

    - first: Thursday 10:00, every record; contact 10:30, appointment 11:00, closed Friday;
    - second: Thursday 10:00; contact 12:30, waits for records from 13:00 until Monday 13:00;
    - third: Sunday 23:30 (week 2 in Brussels), every record; contact Monday 17:00, then waits;
    - fourth: Monday 00:30 (still Sunday in UTC, but week 3 in Brussels); no contact.
    Besides: a callback and a lung-clinic request in week 2; three questions not understood;
    one answered from the FAQ.
    """
    first = await ticket_at(client, headers, "2027-01-14T10:00", records=EVERY_RECORD)
    second = await ticket_at(client, headers, "2027-01-14T10:00")
    third = await ticket_at(client, headers, "2027-01-17T23:30", records=EVERY_RECORD)
    fourth = await ticket_at(client, headers, "2027-01-18T00:30")
    await ticket_at(client, headers, "2027-01-14T11:00", kind="callback")
    await ticket_at(client, headers, "2027-01-14T11:00", department="lung_clinic")
    await move(client, headers, first, "2027-01-14T10:30", "in_progress")
    await move(client, headers, first, "2027-01-14T11:00", "appointment_scheduled")
    await move(client, headers, first, "2027-01-15T10:00", "closed")
    await move(client, headers, second, "2027-01-14T12:30", "in_progress")
    await move(client, headers, second, "2027-01-14T13:00", "waiting_for_records")
    await move(client, headers, second, "2027-01-18T13:00", "appointment_scheduled")
    await move(client, headers, third, "2027-01-18T17:00", "in_progress", "waiting_for_records")
    await ask_at(client, headers, "2027-01-12T09:00", "en")
    await ask_at(client, headers, "2027-01-20T21:00", "en")
    await ask_at(client, headers, "2027-01-19T08:00", "fr")
    await ask_at(client, headers, "2027-01-03T12:00", "nl")  # before the period
    await topic_at(client, headers, "2027-01-13T10:00", "costs", "en")
    return {"first": first, "second": second, "third": third, "fourth": fourth}


def element(page: str, tag: str, element_id: str) -> ElementTree.Element:
    """Parse one element of the page, found by its tag and id."""
    found = re.search(rf'<{tag}[^>]* id="{element_id}".*?</{tag}>', page, re.DOTALL)
    assert found, f"no <{tag} id={element_id}> on the page"
    return ElementTree.fromstring(found.group(0))


def table(page: str, chart: str) -> list[tuple[str, str]]:
    """The rows of a chart's table, as the page shows them."""
    rows = element(page, "table", f"table-{chart}").findall("./tbody/tr")
    return [("".join(row[0].itertext()), "".join(row[1].itertext())) for row in rows]


def headings(page: str, chart: str) -> list[str]:
    """The column headings of a chart's table."""
    return ["".join(th.itertext()) for th in element(page, "table", f"table-{chart}").iter("th")][
        :2
    ]


def bars(page: str, chart: str) -> list[tuple[str, str, float]]:
    """What a chart draws: each bar's label, its value and its width."""
    svg = element(page, "svg", f"chart-{chart}")
    drawn = []
    for group in svg.iter(f"{SVG}g"):
        label, value = group.findall(f"{SVG}text")
        drawn.append(
            (label.text or "", value.text or "", float(group.find(f"{SVG}rect").attrib["width"]))
        )  # type: ignore[union-attr]
    return drawn


async def test_the_figures_of_a_department_over_three_weeks(
    client: Client, auth_headers: dict[str, str]
) -> None:
    await hand_off_a_month(client, auth_headers)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        response, page = await staff.get(f"/reports?{PERIOD}&department=breast_clinic")
    assert response.status == 200
    assert table(page, "requests") == [
        ("2027-01-04", "0"),
        ("2027-01-11", "3"),
        ("2027-01-18", "1"),
    ]
    assert table(page, "funnel") == [
        ("Handed off to reception", "4"),
        ("First contact made", "3"),
        ("Closed", "1"),
    ]
    assert table(page, "first_contact") == [
        ("0 to 1 h", "1"),
        ("1 to 2 h", "0"),
        ("2 to 4 h", "1"),
        ("4 to 8 h", "0"),
        ("8 to 16 h", "1"),
        ("16 to 40 h", "0"),
        ("40 h or more", "0"),
    ]
    assert "Median 2 h 30 min, 90th percentile 8 h (business hours), over 3 requests" in page
    assert table(page, "waiting") == [
        ("0 to 1 d", "0"),
        ("1 to 3 d", "0"),
        ("3 to 7 d", "1"),
        ("7 to 15 d", "1"),
        ("15 to 30 d", "0"),
        ("30 d or more", "0"),
    ]
    assert "Median 9 d, 90th percentile 14 d, over 2 requests that waited for records; 1" in page
    assert table(page, "complete") == [
        ("Every record in hand", "2"),
        ("A record still to come", "2"),
    ]
    assert "50% of 4 requests came with every record in hand." in page
    assert table(page, "gaps") == [("en", "2"), ("fr", "1"), ("nl", "0")]
    assert 'id="report-period" class="meta">From 2027-01-04 to 2027-01-24, Breast clinic.' in page


async def test_every_department_and_none_but_requests(
    client: Client, auth_headers: dict[str, str]
) -> None:
    await hand_off_a_month(client, auth_headers)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, everyone = await staff.get(f"/reports?{PERIOD}")
        _, lungs = await staff.get(f"/reports?{PERIOD}&department=lung_clinic")
    assert table(everyone, "requests") == [
        ("2027-01-04", "0"),
        ("2027-01-11", "4"),
        ("2027-01-18", "1"),
    ]
    assert table(lungs, "requests") == [
        ("2027-01-04", "0"),
        ("2027-01-11", "1"),
        ("2027-01-18", "0"),
    ]
    assert table(lungs, "funnel") == [
        ("Handed off to reception", "1"),
        ("First contact made", "0"),
        ("Closed", "0"),
    ]
    assert table(lungs, "gaps") == table(everyone, "gaps")  # questions have no department


async def test_each_chart_draws_what_its_table_holds(
    client: Client, auth_headers: dict[str, str]
) -> None:
    await hand_off_a_month(client, auth_headers)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, page = await staff.get(f"/reports?{PERIOD}")
    for chart in CHARTS:
        drawn = bars(page, chart)
        assert [(label, value) for label, value, _ in drawn] == table(page, chart), chart
        largest = max(int(value) for _, value, _ in drawn)
        assert [width for _, _, width in drawn] == [
            bar_width(int(value), largest) for _, value, _ in drawn
        ], chart
        svg = element(page, "svg", f"chart-{chart}")
        assert svg.attrib["role"] == "img"
        assert svg.attrib["aria-labelledby"] == f"chart-{chart}-title chart-{chart}-desc"
        assert svg.find(f"{SVG}title").text  # type: ignore[union-attr]
        assert svg.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert "<script" not in page.split("</head>")[1]


async def test_each_csv_holds_its_table(client: Client, auth_headers: dict[str, str]) -> None:
    await hand_off_a_month(client, auth_headers)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, page = await staff.get(f"/reports?{PERIOD}&department=breast_clinic")
        for chart in CHARTS:
            address = f"/reports/{chart}.csv?{PERIOD}&department=breast_clinic"
            assert f'href="{html.escape(address)}"' in page
            response, text = await staff.get(address)
            assert response.status == 200
            assert response.content_type == "text/csv"
            assert response.headers["Content-Disposition"] == (
                f'attachment; filename="{chart}-2027-01-04-2027-01-24.csv"'
            )
            lines = list(csv.reader(io.StringIO(text)))
            assert lines[0] == headings(page, chart)
            assert [tuple(line) for line in lines[1:]] == table(page, chart)
        response, _ = await staff.get(f"/reports/nothing.csv?{PERIOD}")
        assert response.status == 404


async def test_editors_are_refused_and_see_no_link(
    client: Client, auth_headers: dict[str, str]
) -> None:
    async with signed_in(client, "2027-02-01T17:00", StaffRole.EDITOR) as editor:
        response, page = await editor.get(f"/reports?{PERIOD}")
        assert response.status == 403
        assert "Your role (editor) can view tickets only." in page
        response, _ = await editor.get(f"/reports/requests.csv?{PERIOD}")
        assert response.status == 403
        _, inbox = await editor.get("/inbox")
        assert 'href="/reports"' not in inbox
    for role in (StaffRole.RECEPTION, StaffRole.ADMIN):
        async with signed_in(client, "2027-02-01T17:00", role) as staff:
            _, inbox = await staff.get("/inbox")
            assert '<a href="/reports">Reports</a>' in inbox
            response, _ = await staff.get("/reports")
            assert response.status == 200, role


async def test_nothing_personal_reaches_the_page_or_a_csv(
    client: Client, auth_headers: dict[str, str]
) -> None:
    references = await hand_off_a_month(client, auth_headers)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, page = await staff.get(f"/reports?{PERIOD}")
        files = [(await staff.get(f"/reports/{chart}.csv?{PERIOD}"))[1] for chart in CHARTS]
    for text in (page, *files):
        for personal in ("Ada", "Example", "+32 470", "470 12 34 56", "ada@example.org"):
            assert personal not in text
        for private in ("123456789", "mornings", "Hello", "dog", *references.values()):
            assert private not in text


async def test_the_last_twelve_weeks_unless_told_otherwise(
    client: Client, auth_headers: dict[str, str]
) -> None:
    async with signed_in(client, "2027-03-31T08:00") as staff:  # a Wednesday
        response, page = await staff.get("/reports")
        assert response.status == 200
        weeks = [week for week, _ in table(page, "requests")]
        assert len(weeks) == 12
        assert (weeks[0], weeks[-1]) == ("2027-01-11", "2027-03-29")
        assert 'name="from" type="date" value="2027-01-11"' in page
        assert 'name="to" type="date" value="2027-03-31"' in page
        assert 'role="alert"' not in page

        for wrong in ("from=2027-02-01&to=2027-01-01", "from=2025-01-01&to=2027-01-01", "to=x"):
            response, page = await staff.get(f"/reports?{wrong}")
            assert response.status == 200, wrong
            assert "That period cannot be shown" in page, wrong
            assert [week for week, _ in table(page, "requests")] == weeks, wrong
        _, page = await staff.get("/reports?from=2027-03-29")
        assert [week for week, _ in table(page, "requests")] == ["2027-03-29"]


async def reach_at(
    client: Client, headers: dict[str, str], at: str, step: str, language: str = "en"
) -> int:
    """Report a step a conversation reached, at a moment in Brussels time; return the status."""
    with time_machine.travel(brussels(at), tick=False):
        response = await client.post(
            "/api/v1/funnel", json={"step": step, "language": language}, headers=headers
        )
        return response.status


async def test_the_steps_before_the_handoff_are_counted_per_day_in_brussels(
    client: Client, auth_headers: dict[str, str]
) -> None:
    assert STEPS[:4] == ("conversation", "consent", "request_started", "cancer_type")
    assert STEPS[-1] == "request_confirmed"
    for at, step, language in [
        ("2027-01-12T09:00", "conversation", "en"),
        ("2027-01-12T09:01", "conversation", "en"),
        ("2027-01-13T15:00", "conversation", "fr"),
        ("2027-01-24T23:30", "conversation", "nl"),  # the period's last evening
        ("2027-01-25T00:30", "conversation", "nl"),  # the 24th in UTC, the 25th in Brussels
        ("2027-01-12T09:02", "consent", "en"),
        ("2027-01-13T15:01", "consent", "fr"),
        ("2027-01-12T09:03", "request_started", "en"),
        ("2027-01-12T09:04", "cancer_type", "en"),
    ]:
        assert await reach_at(client, auth_headers, at, step, language) == 200
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, page = await staff.get(f"/reports?{PERIOD}&department=breast_clinic")
    rows = table(page, "before_handoff")
    assert rows[:5] == [
        ("A conversation began", "4"),
        ("Consent given", "2"),
        ("Request started", "1"),
        ("Asked: Cancer type", "1"),
        ("Asked: Care stage", "0"),
    ]
    assert len(rows) == len(STEPS)
    assert rows[-1] == ("Asked: Request confirmed", "0")
    assert "4 conversations began (en 2, fr 1, nl 1), in every department" in page
    async with client.app[SESSIONMAKER_KEY]() as session:
        stored = (await session.scalars(select(FunnelCount))).all()
    kept = {(row.day.isoformat(), row.step, row.language): row.reached for row in stored}
    assert kept[("2027-01-12", "conversation", "en")] == 2
    assert kept[("2027-01-25", "conversation", "nl")] == 1
    assert {column.name for column in FunnelCount.__table__.columns} == {
        "day",
        "step",
        "language",
        "reached",
    }


async def test_the_funnel_takes_a_known_step_and_a_language_only(
    client: Client, auth_headers: dict[str, str]
) -> None:
    for body in (
        {"step": "phone_number_typed", "language": "en"},
        {"step": "consent", "language": "english"},
        {"step": "consent"},
        {"step": "consent", "language": "en", "conversation_id": "123456789"},
    ):
        response = await client.post("/api/v1/funnel", json=body, headers=auth_headers)
        assert response.status == 422, body
    response = await client.post("/api/v1/funnel", json={"step": "consent", "language": "en"})
    assert response.status == 401
    async with client.app[SESSIONMAKER_KEY]() as session:
        assert (await session.scalars(select(FunnelCount))).all() == []


async def test_the_topics_asked_are_counted_per_language_most_asked_first(
    client: Client, auth_headers: dict[str, str]
) -> None:
    for at, topic, language in [
        ("2027-01-12T09:00", "costs", "fr"),
        ("2027-01-12T10:00", "costs", "fr"),
        ("2027-01-13T11:00", "costs", "en"),
        ("2027-01-14T11:00", "records_deadline", "nl"),
        ("2027-01-25T00:30", "costs", "nl"),  # the 25th in Brussels: after the period
    ]:
        await topic_at(client, auth_headers, at, topic, language)
    async with signed_in(client, "2027-02-01T17:00") as staff:
        _, page = await staff.get(f"/reports?{PERIOD}")
    costs = client.app[CONTENT_KEY].store.topics("en")["costs"].title
    deadline = client.app[CONTENT_KEY].store.topics("en")["records_deadline"].title
    assert table(page, "topics") == [
        (f"{costs} (fr)", "2"),
        (f"{costs} (en)", "1"),
        (f"{deadline} (nl)", "1"),
    ]
    assert "4 questions answered from the FAQ" in page
    assert [(label, value) for label, value, _ in bars(page, "topics")] == table(page, "topics")
    assert {column.name for column in TopicCount.__table__.columns} == {
        "day",
        "topic",
        "language",
        "asked",
    }


async def test_a_topic_the_content_lacks_is_refused(
    client: Client, auth_headers: dict[str, str]
) -> None:
    for body in (
        {"topic": "no_such_topic", "language": "en"},
        {"topic": "costs", "language": "english"},
        {"topic": "costs", "language": "en", "question": "how much does it cost?"},
    ):
        response = await client.post("/api/v1/topics-asked", json=body, headers=auth_headers)
        assert response.status == 422, body
    async with client.app[SESSIONMAKER_KEY]() as session:
        assert (await session.scalars(select(TopicCount))).all() == []

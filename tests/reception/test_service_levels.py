"""Service levels in business hours: the Belgian calendar, pauses, the API and the inbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reception.models import Ticket, TicketStatus
from reception.service_levels import (
    BusinessCalendar,
    ClockState,
    ServiceLevels,
    Target,
    note_contact,
    note_status_change,
)
from reception.settings import Settings, SettingsError, service_levels_from_env
from tests.reception.support import TICKETS, Client, StaffBrowser, add_staff, create_ticket

BRUSSELS = ZoneInfo("Europe/Brussels")
HOUR = 3600.0
DAY = 8 * HOUR  # one business day of 09:00-17:00
CALENDAR = BusinessCalendar()
LEVELS = ServiceLevels()


def local(*parts: int) -> datetime:
    """A moment on the centre's clock, in UTC."""
    return datetime(*parts, tzinfo=BRUSSELS).astimezone(UTC)


def ticket_at(created: datetime) -> Ticket:
    """A new ticket, handed off at a moment, not stored."""
    return Ticket(created_at=created, pauses=[], first_contact_at=None, decided_at=None)


def clock(ticket: Ticket, target: Target, now: datetime):
    """One of a ticket's clocks at a moment."""
    return next(each for each in LEVELS.clocks(ticket, now) if each.target is target)


@pytest.mark.parametrize(
    ("start", "due", "why"),
    [
        (local(2027, 1, 14, 10, 0), local(2027, 1, 15, 10, 0), "Thursday to Friday"),
        (local(2027, 1, 15, 16, 0), local(2027, 1, 18, 16, 0), "over the weekend"),
        (local(2027, 1, 16, 11, 0), local(2027, 1, 18, 17, 0), "a Saturday counts from Monday"),
        (local(2027, 1, 14, 20, 0), local(2027, 1, 15, 17, 0), "after hours counts from opening"),
        (local(2026, 12, 24, 16, 0), local(2026, 12, 28, 16, 0), "Christmas is a holiday"),
        (local(2027, 5, 5, 12, 0), local(2027, 5, 7, 12, 0), "so is Ascension Day"),
        (local(2027, 3, 26, 12, 0), local(2027, 3, 30, 12, 0), "Easter Monday too"),
        (local(2026, 3, 27, 12, 0), local(2026, 3, 30, 12, 0), "across the change to summer time"),
    ],
)
def test_one_business_day_later_on_the_belgian_calendar(
    start: datetime, due: datetime, why: str
) -> None:
    assert CALENDAR.add(start, DAY) == due, why
    assert CALENDAR.seconds_between(start, due) == DAY, why


def test_business_time_between_two_moments() -> None:
    assert (
        CALENDAR.seconds_between(local(2027, 1, 15, 16, 0), local(2027, 1, 18, 10, 0)) == 2 * HOUR
    )
    assert CALENDAR.seconds_between(local(2027, 1, 16, 9, 0), local(2027, 1, 17, 18, 0)) == 0
    assert CALENDAR.seconds_between(local(2027, 1, 18, 12, 0), local(2027, 1, 18, 11, 0)) == 0
    assert CALENDAR.seconds_between(local(2027, 1, 11, 9, 0), local(2027, 1, 18, 9, 0)) == 5 * DAY


def test_the_first_contact_clock_runs_then_stops_met_or_missed() -> None:
    ticket = ticket_at(local(2027, 1, 14, 10, 0))
    running = clock(ticket, Target.FIRST_CONTACT, local(2027, 1, 14, 15, 30))
    assert (running.state, running.due_at, running.seconds_left) == (
        ClockState.RUNNING,
        local(2027, 1, 15, 10, 0),
        2.5 * HOUR,
    )
    late = clock(ticket, Target.FIRST_CONTACT, local(2027, 1, 15, 11, 0))
    assert (late.state, late.seconds_left, late.overdue) == (ClockState.RUNNING, -HOUR, True)

    note_contact(ticket, local(2027, 1, 15, 9, 30))
    met = clock(ticket, Target.FIRST_CONTACT, local(2027, 1, 20, 9, 0))
    assert (met.state, met.due_at, met.seconds_left, met.overdue) == (
        ClockState.MET,
        None,
        None,
        False,
    )
    missed = ticket_at(local(2027, 1, 14, 10, 0))
    note_contact(missed, local(2027, 1, 15, 10, 1))
    assert clock(missed, Target.FIRST_CONTACT, local(2027, 1, 20, 9, 0)).state is ClockState.MISSED


def test_the_records_clock_stands_still_while_waiting_for_records() -> None:
    ticket = ticket_at(local(2027, 1, 11, 10, 0))  # a Monday
    note_status_change(ticket, TicketStatus.IN_PROGRESS, local(2027, 1, 11, 11, 0))
    note_status_change(ticket, TicketStatus.WAITING_FOR_RECORDS, local(2027, 1, 11, 12, 0))
    for now in (local(2027, 1, 13, 15, 0), local(2027, 2, 1, 15, 0)):
        paused = clock(ticket, Target.RECORDS_DECISION, now)
        assert (paused.state, paused.due_at, paused.seconds_left) == (
            ClockState.PAUSED,
            None,
            5 * DAY - 2 * HOUR,
        )
    assert LEVELS.next_due(ticket, local(2027, 2, 1, 15, 0)) is None
    assert clock(ticket, Target.FIRST_CONTACT, local(2027, 2, 1, 15, 0)).state is ClockState.MET

    note_status_change(ticket, TicketStatus.APPOINTMENT_SCHEDULED, local(2027, 2, 1, 15, 0))
    assert ticket.pauses == [
        [local(2027, 1, 11, 12, 0).isoformat(), local(2027, 2, 1, 15, 0).isoformat()]
    ]
    decided = clock(ticket, Target.RECORDS_DECISION, local(2027, 2, 3, 9, 0))
    assert decided.state is ClockState.MET  # 2 business hours used, all the wait left out


def test_a_wait_that_ended_moves_the_due_time_by_its_business_length() -> None:
    ticket = ticket_at(local(2027, 1, 11, 10, 0))
    ticket.first_contact_at = local(2027, 1, 11, 11, 0)
    ticket.pauses = [[local(2027, 1, 12, 10, 0).isoformat(), local(2027, 1, 14, 10, 0).isoformat()]]
    running = clock(ticket, Target.RECORDS_DECISION, local(2027, 1, 14, 12, 0))
    assert running.state is ClockState.RUNNING
    assert running.due_at == local(2027, 1, 20, 10, 0)  # Monday + 5 days, + 2 days waited
    # used: Monday 10-17 and Tuesday 9-10 and Thursday 10-12, 10 hours in all
    assert running.seconds_left == 5 * DAY - 10 * HOUR


def test_the_targets_and_the_calendar_come_from_the_environment() -> None:
    levels = service_levels_from_env(
        {
            "RECEPTION_FIRST_CONTACT_DAYS": "2",
            "RECEPTION_RECORDS_DECISION_DAYS": "10",
            "RECEPTION_BUSINESS_HOURS": "08:30-16:30",
            "RECEPTION_TIMEZONE": "Europe/Amsterdam",
            "RECEPTION_HOLIDAYS": "NL",
        }
    )
    assert levels == ServiceLevels(
        2, 10, BusinessCalendar("Europe/Amsterdam", time(8, 30), time(16, 30), "NL")
    )
    assert service_levels_from_env({}) == ServiceLevels()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECEPTION_BUSINESS_HOURS", "17:00-09:00"),
        ("RECEPTION_BUSINESS_HOURS", "nine to five"),
        ("RECEPTION_TIMEZONE", "Europe/Atlantis"),
        ("RECEPTION_HOLIDAYS", "XX"),
        ("RECEPTION_FIRST_CONTACT_DAYS", "0"),
    ],
)
def test_a_calendar_or_target_that_cannot_work_is_refused_in_words(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        service_levels_from_env({name: value})
    assert name in str(raised.value)


async def test_the_api_carries_the_clocks_and_finds_what_is_overdue(
    client: Client, auth_headers: dict[str, str]
) -> None:
    with time_machine.travel(local(2027, 1, 11, 10, 0), tick=False):  # Monday
        early = (await create_ticket(client, auth_headers))["reference"]
    with time_machine.travel(local(2027, 1, 12, 10, 30), tick=False):
        late = (await create_ticket(client, auth_headers))["reference"]
    with time_machine.travel(local(2027, 1, 12, 11, 0), tick=False):
        fetched = await (await client.get(f"{TICKETS}/{early}", headers=auth_headers)).json()
        assert fetched["service_levels"] == [
            {
                "target": "first_contact",
                "state": "running",
                "due_at": "2027-01-12T09:00:00Z",
                "business_seconds_left": -3600,
                "overdue": True,
            },
            {
                "target": "records_decision",
                "state": "running",
                "due_at": "2027-01-18T09:00:00Z",
                "business_seconds_left": 4 * 8 * 3600 - 3600,
                "overdue": False,
            },
        ]
        overdue = await client.get(TICKETS, params={"overdue": "true"}, headers=auth_headers)
        assert [item["reference"] for item in (await overdue.json())["items"]] == [early]
        by_due = await client.get(TICKETS, params={"sort": "due"}, headers=auth_headers)
        assert [item["reference"] for item in (await by_due.json())["items"]] == [early, late]
        newest = await client.get(TICKETS, headers=auth_headers)
        assert [item["reference"] for item in (await newest.json())["items"]] == [late, early]

        answer = await client.patch(
            f"{TICKETS}/{early}", json={"status": "in_progress"}, headers=auth_headers
        )
        states = [clock["state"] for clock in (await answer.json())["service_levels"]]
        assert states == ["missed", "running"]
        by_due = await client.get(TICKETS, params={"sort": "due"}, headers=auth_headers)
        assert [item["reference"] for item in (await by_due.json())["items"]] == [late, early]
        overdue = await client.get(TICKETS, params={"overdue": "true"}, headers=auth_headers)
        assert (await overdue.json())["items"] == []


async def test_a_wait_for_records_pauses_the_clock_through_the_api(
    client: Client, auth_headers: dict[str, str]
) -> None:
    with time_machine.travel(local(2027, 1, 11, 10, 0), tick=False):
        reference = (await create_ticket(client, auth_headers))["reference"]
    for status, at in [
        ("in_progress", local(2027, 1, 11, 11, 0)),
        ("waiting_for_records", local(2027, 1, 11, 12, 0)),
    ]:
        with time_machine.travel(at, tick=False):
            answer = await client.patch(
                f"{TICKETS}/{reference}", json={"status": status}, headers=auth_headers
            )
            assert answer.status == 200
    for now in (local(2027, 1, 20, 15, 0), local(2027, 3, 1, 9, 0)):
        with time_machine.travel(now, tick=False):
            ticket = await (await client.get(f"{TICKETS}/{reference}", headers=auth_headers)).json()
        records = ticket["service_levels"][1]
        assert (records["state"], records["due_at"], records["business_seconds_left"]) == (
            "paused",
            None,
            5 * 8 * 3600 - 2 * 3600,
        )
    with time_machine.travel(local(2027, 3, 1, 9, 0), tick=False):
        overdue = await client.get(TICKETS, params={"overdue": "true"}, headers=auth_headers)
    assert (await overdue.json())["items"] == []


async def test_a_staff_message_is_the_first_contact(
    client: Client, auth_headers: dict[str, str]
) -> None:
    with time_machine.travel(local(2027, 1, 11, 10, 0), tick=False):
        reference = (await create_ticket(client, auth_headers))["reference"]
    with time_machine.travel(local(2027, 1, 11, 16, 0), tick=False):
        sent = await client.post(
            f"{TICKETS}/{reference}/messages", json={"text": "Hello"}, headers=auth_headers
        )
        assert sent.status == 201
        ticket = await (await client.get(f"{TICKETS}/{reference}", headers=auth_headers)).json()
    assert ticket["service_levels"][0]["state"] == "met"


def test_settings_hold_the_default_service_levels() -> None:
    settings = Settings(api_token="t", session_secret="s" * 16)
    assert settings.service_levels == ServiceLevels(1, 5, BusinessCalendar())
    assert timedelta(seconds=settings.service_levels.calendar.day_seconds) == timedelta(hours=8)


async def test_the_inbox_shows_time_left_and_lists_overdue_tickets(
    client: Client, auth_headers: dict[str, str]
) -> None:
    with time_machine.travel(local(2027, 1, 11, 10, 0), tick=False):
        early = (await create_ticket(client, auth_headers))["reference"]
    with time_machine.travel(local(2027, 1, 12, 10, 30), tick=False):
        late = (await create_ticket(client, auth_headers))["reference"]
    with time_machine.travel(local(2027, 1, 12, 11, 0), tick=False):
        await add_staff(client, "ana@example.org")
        staff = StaffBrowser(client)
        try:
            await staff.login("ana@example.org")
            _, page = await staff.get("/inbox?sort=due")
            assert re.findall(r'data-reference="([^"]+)"', page) == [early, late]
            assert re.search(r'class="due due-overdue" title="First contact">overdue by 1 h<', page)
            assert re.search(
                r'class="due due-running" title="First contact">7 h 30 min left<', page
            )
            _, page = await staff.get("/inbox?overdue=1")
            assert re.findall(r'data-reference="([^"]+)"', page) == [early]
            assert 'id="filter-overdue" name="overdue" type="checkbox" value="1" checked' in page
            response, _ = await staff.get("/inbox/tickets.json?overdue=1&sort=due")
            rows = (await response.json())["rows"]
            assert [(row["reference"], row["due_state"], row["due"]) for row in rows] == [
                (early, "overdue", "overdue by 1 h")
            ]
        finally:
            await staff.close()

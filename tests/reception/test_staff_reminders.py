"""Staff reminders: "call back Thursday" on a ticket, shown in the inbox once due, until done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select

from reception.appkeys import SESSIONMAKER_KEY
from reception.models import StaffReminder
from tests.reception.support import Client, StaffBrowser, add_staff, create_ticket

BRUSSELS = ZoneInfo("Europe/Brussels")
CALL_BACK = "Call back about the CT scan"


def brussels(moment: datetime) -> str:
    """A moment as a datetime-local field holds it, in Brussels time."""
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")


async def remind(browser: StaffBrowser, reference: str, when: str, text: str = CALL_BACK) -> int:
    """Post the reminder form of a ticket page and return the status."""
    await browser.get(f"/inbox/tickets/{reference}")
    response, _ = await browser.post(
        f"/inbox/tickets/{reference}/reminders", {"when": when, "text": text}
    )
    return response.status


async def reminders_in_database(client: Client) -> int:
    """Count every reminder the database holds."""
    async with client.app[SESSIONMAKER_KEY]() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffReminder)) or 0)


async def test_a_reminder_shows_in_the_inbox_once_due_until_it_is_done(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    due = datetime.now(UTC) + timedelta(hours=2)
    assert await remind(browser, reference, brussels(due)) == 303

    _, page = await browser.get(f"/inbox/tickets/{reference}?done=reminder")
    assert "Reminder set." in page
    assert CALL_BACK in page and "For reception@example.org, due" in page
    assert "Reminder set for" in page  # the history
    _, inbox = await browser.get("/inbox")
    assert "Your reminders due now" not in inbox

    with time_machine.travel(due + timedelta(minutes=1), tick=True):
        _, inbox = await browser.get("/inbox")
        assert "Your reminders due now" in inbox
        assert f'href="/inbox/tickets/{reference}#reminders-heading">{reference}</a>' in inbox
        assert CALL_BACK in inbox

        async with client.app[SESSIONMAKER_KEY]() as session:
            [reminder_id] = (await session.scalars(select(StaffReminder.id))).all()
        await browser.get(f"/inbox/tickets/{reference}")
        response, _ = await browser.post(
            f"/inbox/tickets/{reference}/reminders/{reminder_id}/done", {}
        )
        assert response.status == 303
        _, inbox = await browser.get("/inbox")
        assert "Your reminders due now" not in inbox
    _, page = await browser.get(f"/inbox/tickets/{reference}")
    assert "No reminders planned." in page


async def test_a_reminder_needs_a_later_moment_and_words(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    past = brussels(datetime.now(UTC) - timedelta(hours=1))
    later = brussels(datetime.now(UTC) + timedelta(days=2))
    for when, text in [(past, CALL_BACK), (later, ""), (later, "x" * 501), ("Thursday", CALL_BACK)]:
        assert await remind(browser, reference, when, text) == 422, (when, text)
    assert await reminders_in_database(client) == 0
    _, page = await browser.get(f"/inbox/tickets/{reference}")
    assert "Reminder set for" not in page


async def test_each_member_of_staff_sees_and_finishes_only_their_own(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str]
) -> None:
    reference = (await create_ticket(client, auth_headers))["reference"]
    due = datetime.now(UTC) + timedelta(hours=1)
    assert await remind(browser, reference, brussels(due)) == 303
    await add_staff(client, "colleague@example.org")
    colleague = StaffBrowser(client)
    try:
        assert (await colleague.login("colleague@example.org")).status == 303
        async with client.app[SESSIONMAKER_KEY]() as session:
            [reminder_id] = (await session.scalars(select(StaffReminder.id))).all()
        with time_machine.travel(due + timedelta(minutes=1), tick=True):
            _, inbox = await colleague.get("/inbox")
            assert "Your reminders due now" not in inbox
            _, page = await colleague.get(f"/inbox/tickets/{reference}")
            assert CALL_BACK in page  # a colleague covering sees what was planned
            response, _ = await colleague.post(
                f"/inbox/tickets/{reference}/reminders/{reminder_id}/done", {}
            )
            assert response.status == 404
            _, inbox = await browser.get("/inbox")
            assert CALL_BACK in inbox
    finally:
        await colleague.close()


async def test_erasing_the_ticket_deletes_its_reminders(
    browser: StaffBrowser, client: Client, auth_headers: dict[str, str]
) -> None:
    ticket = await create_ticket(client, auth_headers)
    later = brussels(datetime.now(UTC) + timedelta(days=1))
    assert await remind(browser, ticket["reference"], later) == 303
    assert await reminders_in_database(client) == 1
    erased = await client.post(
        "/api/v1/erasures",
        json={"channel": ticket["channel"], "channel_address": ticket["channel_address"]},
        headers=auth_headers,
    )
    assert erased.status == 200
    assert await reminders_in_database(client) == 0

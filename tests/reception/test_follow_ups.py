"""Reminders to patients whose records are still missing: asked for at the handoff, sent on day
15 in business hours, at most twice, once each even across restarts, and never after a stop.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml

from contentlib import ContentStore
from harness.stack import ROOT
from reception import follow_ups
from reception.appkeys import BOT_KEY, SESSIONMAKER_KEY
from reception.settings import Settings
from tests.reception.conftest import API_TOKEN, SESSION_SECRET
from tests.reception.support import Client, FakeBot, StaffBrowser, create_ticket, serve

BRUSSELS = ZoneInfo("Europe/Brussels")
FOLLOW_UPS = "/api/v1/follow-ups"
# A Thursday, 10:00 in Brussels; day 15 is Friday 29 January, a working day.
HANDOFF = datetime(2027, 1, 14, 10, 0, tzinfo=BRUSSELS)
DAY = timedelta(days=15)


def at(moment: datetime) -> datetime:
    """A moment in UTC, as reception stores it."""
    return moment.astimezone(UTC)


async def handed_off(
    client: Client, headers: dict[str, str], when: datetime = HANDOFF, **overrides: Any
) -> str:
    """Create a ticket at `when`, its patient wanting reminders; return its reference."""
    with time_machine.travel(at(when), tick=False):
        ticket = await create_ticket(client, headers, **overrides)
    answer = await answer_follow_up(client, headers, "wanted", ticket["channel_address"])
    assert answer == [ticket["reference"]]
    return str(ticket["reference"])


async def answer_follow_up(
    client: Client, headers: dict[str, str], state: str, address: str = "123456789"
) -> list[str]:
    """Tell reception what the patient of a Telegram conversation answered."""
    body = {"channel": "telegram", "channel_address": address, "follow_up": state}
    response = await client.post(FOLLOW_UPS, json=body, headers=headers)
    assert response.status == 200, await response.text()
    return list((await response.json())["changed"])


async def run_pass(client: Client, settings: Settings, moment: datetime) -> list[str]:
    """One pass of the reminders, as if it were `moment`."""
    return await follow_ups.remind_once(
        client.app[SESSIONMAKER_KEY],
        client.app[BOT_KEY],
        ContentStore(settings.content_dir),
        settings.follow_ups,
        at(moment),
    )


async def follow_up_of(client: Client, headers: dict[str, str], reference: str) -> dict[str, Any]:
    """The follow-up part of a ticket, as the API shows it."""
    response = await client.get(f"/api/v1/tickets/{reference}", headers=headers)
    return dict((await response.json())["follow_up"])


async def test_a_reminder_arrives_once_on_day_15_in_the_patient_s_language(
    client: Client, settings: Settings, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    reference = await handed_off(client, auth_headers, language="fr")
    assert await run_pass(client, settings, HANDOFF + DAY - timedelta(hours=1)) == []
    assert fake_bot.deliveries == []

    assert await run_pass(client, settings, HANDOFF + DAY) == [reference]
    assert await run_pass(client, settings, HANDOFF + DAY + timedelta(hours=2)) == []
    [delivery] = fake_bot.deliveries
    assert fake_bot.keys == [f"follow-up:{reference}:1"]
    store = ContentStore(settings.content_dir)
    assert delivery["text"] == store.text("follow_up_reminder", "fr", reference=reference)
    assert delivery["sender"] == "assistant" and delivery["language"] == "fr"
    assert (delivery["channel"], delivery["address"]) == ("telegram", "123456789")
    assert [button["payload"] for button in delivery["buttons"]] == [
        "/ask_status",
        "/send_records",
        "/stop_reminders",
    ]
    assert [button["title"] for button in delivery["buttons"]] == [
        store.text("follow_up.missing", "fr"),
        store.text("records_link_button", "fr"),
        store.text("follow_up.stop", "fr"),
    ]
    # Lock screens show it: nothing about the illness, nor whom it is for.
    for private in ("breast", "sein", "Ada", "just_diagnosed"):
        assert private not in delivery["text"]
    assert (await follow_up_of(client, auth_headers, reference))["sent"] == 1


@pytest.mark.parametrize(
    ("handoff", "quiet", "next_open"),
    [
        # Day 15 is a Saturday: nothing that night nor on Sunday, then Monday morning.
        (
            datetime(2027, 1, 15, 10, 0, tzinfo=BRUSSELS),
            [datetime(2027, 1, 30, 22, 0, tzinfo=BRUSSELS), datetime(2027, 1, 31, 11, 0)],
            datetime(2027, 2, 1, 9, 0, tzinfo=BRUSSELS),
        ),
        # Day 15 is Easter Monday: nothing on the holiday, then Tuesday morning.
        (
            datetime(2027, 3, 14, 10, 0, tzinfo=BRUSSELS),
            [datetime(2027, 3, 29, 10, 0, tzinfo=BRUSSELS)],
            datetime(2027, 3, 30, 9, 30, tzinfo=BRUSSELS),
        ),
        # Day 15 at 18:00, after the desk closes: the next morning instead.
        (
            datetime(2027, 1, 13, 18, 0, tzinfo=BRUSSELS),
            [datetime(2027, 1, 28, 18, 0, tzinfo=BRUSSELS), datetime(2027, 1, 29, 7, 0)],
            datetime(2027, 1, 29, 9, 0, tzinfo=BRUSSELS),
        ),
    ],
    ids=["saturday-night", "easter-monday", "evening"],
)
async def test_no_reminder_outside_business_hours(
    client: Client,
    settings: Settings,
    auth_headers: dict[str, str],
    fake_bot: FakeBot,
    handoff: datetime,
    quiet: list[datetime],
    next_open: datetime,
) -> None:
    reference = await handed_off(client, auth_headers, handoff)
    for moment in quiet:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)
        assert await run_pass(client, settings, moment) == []
    assert fake_bot.deliveries == []
    assert await run_pass(client, settings, next_open) == [reference]


async def test_at_most_two_reminders_then_the_ticket_is_flagged_for_staff(
    client: Client,
    settings: Settings,
    auth_headers: dict[str, str],
    fake_bot: FakeBot,
    browser: StaffBrowser,
) -> None:
    reference = await handed_off(client, auth_headers)
    first, second = HANDOFF + DAY, HANDOFF + 2 * DAY + timedelta(days=2)  # day 30: a Saturday
    assert await run_pass(client, settings, first) == [reference]
    assert (await follow_up_of(client, auth_headers, reference))["flagged_at"] is None
    _, page = await browser.get(f"/inbox/tickets/{reference}")
    assert "reminders ran out: call the patient" not in page
    assert await run_pass(client, settings, second) == [reference]
    assert await run_pass(client, settings, HANDOFF + 3 * DAY) == []
    assert fake_bot.keys == [f"follow-up:{reference}:1", f"follow-up:{reference}:2"]
    follow_up = await follow_up_of(client, auth_headers, reference)
    assert follow_up["sent"] == 2 and follow_up["state"] == "wanted"
    assert datetime.fromisoformat(follow_up["flagged_at"]) == at(second)
    _, page = await browser.get(f"/inbox/tickets/{reference}")
    assert "reminders ran out: call the patient" in page
    _, inbox = await browser.get("/inbox")
    assert "reminders ran out: call the patient" in inbox


async def test_none_after_stop_or_erasure_or_when_nothing_is_missing(
    client: Client, settings: Settings, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    stopped = await handed_off(client, auth_headers, channel_address="1001")
    erased = await handed_off(client, auth_headers, channel_address="1002")
    complete = await handed_off(
        client,
        auth_headers,
        channel_address="1003",
        records={"reports": "have", "imaging": "have"},
    )
    declined_address = "1004"
    with time_machine.travel(at(HANDOFF), tick=False):
        declined = (await create_ticket(client, auth_headers, channel_address="1004"))["reference"]
    assert await answer_follow_up(client, auth_headers, "declined", declined_address) == [declined]
    assert await answer_follow_up(client, auth_headers, "stopped", "1001") == [stopped]
    assert await answer_follow_up(client, auth_headers, "stopped", "1001") == []
    assert await answer_follow_up(client, auth_headers, "stopped", declined_address) == []
    body = {"channel": "telegram", "channel_address": "1002"}
    response = await client.post("/api/v1/erasures", json=body, headers=auth_headers)
    assert (await response.json())["erased"] == [erased]

    assert await run_pass(client, settings, HANDOFF + DAY) == []
    assert fake_bot.deliveries == []
    assert (await follow_up_of(client, auth_headers, complete))["sent"] == 0
    history = await client.get(f"/api/v1/tickets/{stopped}/history", headers=auth_headers)
    changes = [
        (event["old_value"], event["new_value"])
        for event in (await history.json())["items"]
        if event["action"] == "follow_up_changed"
    ]
    assert changes == [(None, "wanted"), ("wanted", "stopped")]


async def test_a_reminder_still_arrives_once_after_a_restart_in_the_middle_of_a_pass(
    settings: Settings,
    auth_headers: dict[str, str],
    fake_bot: FakeBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serve(settings) as client:
        reference = await handed_off(client, auth_headers)

        async def crash(*args: Any, **kwargs: Any) -> None:
            """Stop the process after the bot took the reminder, before reception noted it."""
            raise asyncio.CancelledError

        monkeypatch.setattr(follow_ups, "_record", crash)
        with pytest.raises(asyncio.CancelledError):
            await run_pass(client, settings, HANDOFF + DAY)
        monkeypatch.undo()
    assert len(fake_bot.deliveries) == 1

    async with serve(settings) as restarted:
        assert await run_pass(restarted, settings, HANDOFF + DAY + timedelta(minutes=5)) == [
            reference
        ]
        assert (await follow_up_of(restarted, auth_headers, reference))["sent"] == 1
        assert await run_pass(restarted, settings, HANDOFF + DAY + timedelta(hours=1)) == []
    assert len(fake_bot.deliveries) == 1  # the bot delivered the key once
    assert fake_bot.keys == [f"follow-up:{reference}:1"]


async def test_a_bot_that_is_down_gets_the_reminder_at_the_next_pass(
    client: Client, settings: Settings, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    reference = await handed_off(client, auth_headers)
    fake_bot.status = 503
    assert await run_pass(client, settings, HANDOFF + DAY) == []
    assert (await follow_up_of(client, auth_headers, reference))["sent"] == 0
    fake_bot.status = 202
    assert await run_pass(client, settings, HANDOFF + DAY + timedelta(hours=1)) == [reference]
    assert len(fake_bot.deliveries) == 1


async def test_a_reminder_the_bot_refuses_for_good_goes_to_staff(
    client: Client, settings: Settings, auth_headers: dict[str, str], fake_bot: FakeBot
) -> None:
    reference = await handed_off(client, auth_headers)
    fake_bot.status = 422
    assert await run_pass(client, settings, HANDOFF + DAY) == []
    follow_up = await follow_up_of(client, auth_headers, reference)
    assert follow_up["state"] == "stopped" and follow_up["sent"] == 0
    assert follow_up["flagged_at"] is not None
    fake_bot.status = 202
    assert await run_pass(client, settings, HANDOFF + 2 * DAY) == []


async def test_follow_up_answers_are_checked(client: Client, auth_headers: dict[str, str]) -> None:
    body = {"channel": "telegram", "channel_address": "123456789", "follow_up": "maybe"}
    response = await client.post(FOLLOW_UPS, json=body, headers=auth_headers)
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "follow_up"
    response = await client.post(FOLLOW_UPS, json={**body, "follow_up": "wanted"})
    assert response.status == 401


async def test_the_command_line_runs_one_pass_as_of_a_moment(
    settings: Settings, fake_bot: FakeBot, auth_headers: dict[str, str]
) -> None:
    async with serve(settings) as client:
        reference = await handed_off(client, auth_headers)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "RECEPTION_API_TOKEN": API_TOKEN,
        "RECEPTION_SESSION_SECRET": SESSION_SECRET,
        "BOT_URL": fake_bot.url,
    }

    async def remind(*args: str) -> tuple[int, str, str]:
        """Run `python -m reception remind` with these arguments; the fake bot keeps serving."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "reception",
            "remind",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        return int(process.returncode or 0), out.decode(), err.decode()

    day_15 = HANDOFF + DAY
    code, out, err = await remind(
        "--as-of", (day_15 - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    )
    assert code == 0, err
    assert out.strip() == "reminded 0 patients"
    code, out, err = await remind(
        "--as-of", day_15.strftime("%Y-%m-%dT%H:%M")
    )  # Brussels, no offset
    assert code == 0, err
    assert out.strip() == "reminded 1 patient"
    assert fake_bot.keys == [f"follow-up:{reference}:1"]
    code, _, err = await remind("--as-of", "next tuesday")
    assert code == 2
    assert "--as-of must be a date and time such as 2027-01-15T10:00" in err


def test_the_reminder_s_buttons_name_intents_of_the_domain() -> None:
    """Reception spells the buttons' payloads; the assistant must know them as intents."""
    domain = yaml.safe_load((ROOT / "data" / "domain" / "intents.yml").read_text())
    for payload in follow_ups.PAYLOADS:
        assert payload.removeprefix("/") in domain["intents"]

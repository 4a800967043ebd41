"""Reminders of missing records on Telegram: offered at the handoff, sent by reception's
`remind` command through the bot, with buttons that show what is missing and stop them.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contentlib import ContentStore
from harness.stack import ROOT, VENV_PYTHON, Stack
from harness.telegram_emulator import TelegramEmulator
from reception.service_levels import BusinessCalendar
from tests.e2e.patient import Patient
from tests.e2e.stored import tickets_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def patient(
    request: pytest.FixtureRequest, stack: Stack, telegram: TelegramEmulator, content: ContentStore
) -> Patient:
    """A new patient with a chat of their own."""
    chat_id = 90_000 + zlib.crc32(request.node.nodeid.encode()) % 5_000
    return Patient(telegram, content, chat_id, stack.bot_database)


def hand_off_with_records_missing(patient: Patient) -> str:
    """Go through the request with imaging and pathology still to come; return the reference."""
    patient.consents()
    patient.taps_key("menu.start")
    patient.says("lung cancer")
    patient.taps_key("care_stages.in_treatment")
    patient.taps_key("residences.belgium")
    patient.taps_key("record_states.have")
    patient.taps_key("record_states.requested")
    patient.taps_key("record_states.not_yet")
    patient.taps_key("record_states.have")
    patient.says("Lena Claes")
    patient.says("0470 98 76 54")
    patient.taps_key("email_skip")
    patient.says("afternoons")
    patient.taps_key("confirm.send")
    found = re.search(r"SO-\d{4}-\d{5,}", patient.texts()[0])
    assert found, patient.texts()
    return found.group(0)


def next_open_moment(after: datetime) -> datetime:
    """The first whole business hour of the desk's calendar at or after a moment."""
    calendar = BusinessCalendar()
    moment = after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while not calendar.is_open(moment):
        moment += timedelta(hours=1)
    return moment


def remind(stack: Stack, as_of: datetime) -> str:
    """Run one pass of reception's reminders as if it were `as_of`; return what it printed."""
    done = subprocess.run(
        [str(VENV_PYTHON), "-m", "reception", "remind", "--as-of", as_of.isoformat()],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_patient_who_asked_gets_a_reminder_on_day_15_and_can_stop_them(
    patient: Patient, stack: Stack, reception_api: httpx.Client
) -> None:
    reference = hand_off_with_records_missing(patient)
    assert patient.texts()[-1] == patient.seen("follow_up_offer")
    assert patient.buttons() == [
        patient.content.text("follow_up.accept", "en"),
        patient.content.text("follow_up.decline", "en"),
    ]
    patient.taps_key("follow_up.accept")
    assert patient.texts() == [patient.seen("follow_up_wanted")]
    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["follow_up"]["state"] == "wanted"

    day_15 = next_open_moment(datetime.now(UTC) + timedelta(days=15))
    assert remind(stack, day_15 - timedelta(days=1)) == "reminded 0 patients"
    mark = patient.telegram.mark(patient.chat_id)
    assert remind(stack, day_15) == "reminded 1 patient"
    [reminder] = patient.replies(after=mark)
    assert reminder["text"] == patient.seen("follow_up_reminder", reference=reference)
    assert "lung" not in reminder["text"].lower()
    assert [title for title, _ in patient.telegram.buttons(reminder)] == [
        patient.content.text("follow_up.missing", "en"),
        patient.content.text("records_link_button", "en"),
        patient.content.text("follow_up.stop", "en"),
    ]

    [link] = patient.taps_key("records_link_button")
    assert f"{stack.url('uploads')}/records/" in link["text"]
    assert link["link_preview_disabled"] is True  # Telegram's crawler never opens it

    patient.taps_key("follow_up.missing")
    missing = patient.texts()[-1]
    assert reference in missing
    assert patient.content.text("records.imaging.name", "en") in missing
    assert patient.content.text("records.pathology.name", "en") in missing
    assert patient.content.text("records.reports.name", "en") not in missing

    patient.taps_key("follow_up.stop")
    assert patient.texts() == [patient.seen("follow_up_stopped")]
    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["follow_up"] == {
        "state": "stopped",
        "sent": 1,
        "flagged_at": None,
    }
    mark = patient.telegram.mark(patient.chat_id)
    assert remind(stack, next_open_moment(day_15 + timedelta(days=15))) == "reminded 0 patients"
    assert patient.telegram.sent(patient.chat_id, after=mark) == []


def test_a_patient_who_declined_gets_no_reminder(
    patient: Patient, stack: Stack, reception_api: httpx.Client
) -> None:
    hand_off_with_records_missing(patient)
    patient.taps_key("follow_up.decline")
    assert patient.texts() == [patient.seen("follow_up_declined")]
    [ticket] = tickets_of(reception_api, patient.chat_id)
    assert ticket["follow_up"]["state"] == "declined"

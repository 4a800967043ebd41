"""Soak: many patients at once, and patients whose requests live through outages and a crash.

`make soak` runs these (and `.ci/run` runs `make soak` after `make test`). They take a few
minutes; each prints how long it ran.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contentlib import ContentStore
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.soak.patient import SoakPatient

pytestmark = pytest.mark.soak

REFERENCE = re.compile(r"SO-\d{4}-\d{5}")
PROBLEMS = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


def patients(
    telegram: TelegramEmulator, content: ContentStore, first_chat: int, count: int
) -> list[SoakPatient]:
    """Patients with distinct chats, names and phone numbers."""
    return [
        SoakPatient(
            telegram,
            content,
            first_chat + n,
            name=f"Patient Number{n:03d}",
            phone=f"0470 {n // 100:02d} {n % 100:02d} 00",
        )
        for n in range(count)
    ]


def run_all(journeys: list[Callable[[], None]], stagger: float = 0.0) -> list[BaseException]:
    """Run the journeys at once, in threads; return the errors they ended with."""
    errors: list[BaseException] = []

    def run(index: int, journey: Callable[[], None]) -> None:
        time.sleep(index * stagger)
        try:
            journey()
        except BaseException as error:
            errors.append(error)

    with ThreadPoolExecutor(max_workers=len(journeys)) as pool:
        list(pool.map(run, range(len(journeys)), journeys))
    return errors


def tickets(stack: Stack) -> list[dict]:
    """Every ticket reception holds."""
    headers = {"Authorization": f"Bearer {stack.reception_token}"}
    items: list[dict] = []
    with httpx.Client(base_url=stack.url("reception"), headers=headers, timeout=30) as client:
        while True:
            page = client.get("/api/v1/tickets", params={"limit": 100, "offset": len(items)})
            page.raise_for_status()
            batch = page.json()["items"]
            items += batch
            if len(batch) < 100:
                return items


def log_sizes(stack: Stack) -> dict[str, int]:
    """Where each process's log ends now."""
    return {name: len(text) for name, text in stack.logs().items()}


def new_problems(stack: Stack, since: dict[str, int]) -> dict[str, list[str]]:
    """Lines logged at ERROR or CRITICAL, or tracebacks, since a point in time, per process."""
    found = {}
    for name, text in stack.logs().items():
        lines = [line for line in text[since.get(name, 0) :].splitlines() if PROBLEMS.search(line)]
        if lines:
            found[name] = lines[:20]
    return found


def test_fifty_patients_at_once_all_reach_reception(
    soak_stack: Stack, soak_telegram: TelegramEmulator, content: ContentStore
) -> None:
    """50 simulated patients through the Telegram emulator at the same time: every journey ends
    with its ticket at reception, and no process logs an error.
    """
    started = time.monotonic()
    since = log_sizes(soak_stack)
    crowd = patients(soak_telegram, content, 80_000, 50)
    errors = run_all([patient.requests_a_second_opinion for patient in crowd])
    assert errors == []
    assert all(not patient.was_saved for patient in crowd)
    held = {t["channel_address"]: t for t in tickets(soak_stack)}
    for patient in crowd:
        ticket = held[str(patient.chat_id)]
        assert ticket["contact"]["name"] == patient.name
        assert ticket["reference"] in patient.confirmation
    assert new_problems(soak_stack, since) == {}
    print(f"\n50 patients at once: {time.monotonic() - started:.0f} s")


def test_twenty_patients_through_a_reception_outage_and_a_bot_crash(
    soak_stack: Stack, soak_telegram: TelegramEmulator, content: ContentStore
) -> None:
    """20 patients while reception is stopped for part of the run and the bot is killed and
    restarted once: afterwards reception holds exactly 20 tickets, one per patient, and every
    patient got a confirmation (and, when it was saved, the reference once it arrived).
    """
    started = time.monotonic()
    group = patients(soak_telegram, content, 90_000, 20)
    before = {t["channel_address"] for t in tickets(soak_stack)}
    faults_done = threading.Event()

    def inject_faults() -> None:
        time.sleep(20)
        soak_stack.stop_service("reception")
        time.sleep(15)
        soak_stack.kill_service("bot")
        time.sleep(3)
        soak_stack.start_service("bot")
        time.sleep(15)
        soak_stack.start_service("reception")
        faults_done.set()

    faults = threading.Thread(target=inject_faults, name="faults")
    faults.start()
    errors = run_all([patient.requests_a_second_opinion for patient in group], stagger=2.5)
    faults.join(timeout=300)
    assert faults_done.is_set()
    assert errors == []
    saved = [patient for patient in group if patient.was_saved]
    assert saved, "no request was sent while reception was down: the outage came too late"

    deadline = time.monotonic() + 300
    while True:
        ours = [t for t in tickets(soak_stack) if t["channel_address"] not in before]
        arrived = {p.chat_id: arrival(soak_telegram, p) for p in saved}
        if len(ours) >= len(group) and all(arrived.values()):
            break
        assert time.monotonic() < deadline, f"{len(ours)} tickets; notices {arrived}"
        time.sleep(2)
    time.sleep(5)  # anything duplicated would have arrived by now
    ours = [t for t in tickets(soak_stack) if t["channel_address"] not in before]
    assert len(ours) == 20
    by_chat = {t["channel_address"]: t for t in ours}
    assert sorted(by_chat) == sorted(str(p.chat_id) for p in group)
    for patient in group:
        ticket = by_chat[str(patient.chat_id)]
        assert ticket["contact"]["name"] == patient.name
        if patient.was_saved:
            assert arrived[patient.chat_id] == patient.seen(
                "handoff_arrived", reference=ticket["reference"]
            )
        else:
            assert ticket["reference"] in (patient.confirmation or "")
    print(
        f"\n20 patients through the faults: {time.monotonic() - started:.0f} s, "
        f"{len(saved)} saved while reception was down"
    )


def arrival(telegram: TelegramEmulator, patient: SoakPatient) -> str | None:
    """The 'your request has now reached reception' message a patient got, if any."""
    expected_start = patient.seen("handoff_arrived", reference="X").split("X")[0]
    found = [
        m["text"] for m in telegram.sent(patient.chat_id) if m["text"].startswith(expected_start)
    ]
    assert len(found) <= 1, found
    return found[0] if found else None

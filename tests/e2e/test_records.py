"""A patient sends their records on Telegram, through the whole product: bot, reception, clamd."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contentlib import ContentStore
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests import record_samples
from tests.e2e.patient import Patient
from tests.e2e.test_follow_ups import hand_off_with_records_missing

pytestmark = pytest.mark.e2e


def label(patient: Patient, key: str) -> str:
    """A label's name, as the patient reads it on its button."""
    return str(patient.content.text(f"records.{key}.name", patient.language))


def files_on_disk(stack: Stack, reference: str) -> list[Path]:
    """Every file reception keeps for one request, encrypted (in a folder named by its id)."""
    folder = stack.files_dir / str(int(reference.rsplit("-", 1)[1]))
    return [path for path in folder.rglob("*") if path.is_file()]


def test_records_sent_after_the_handoff_reach_the_ticket_scanned_and_erasable(
    stack: Stack, telegram: TelegramEmulator, content: ContentStore, reception_api: httpx.Client
) -> None:
    """A report, a CT slice and an infected file: listed on the ticket, scanned, gone on /delete."""
    patient = Patient(telegram, content, 69_300, stack.bot_database)
    reference = hand_off_with_records_missing(patient)
    report = record_samples.pdf("Histology of the left lung, Dr Wendelbroek")
    patient.sends_document(report, "histology.pdf", "application/pdf")
    assert patient.texts() == [
        patient.seen("records_received_guess", label=label(patient, "reports"))
    ]
    patient.taps(label(patient, "pathology"))
    assert patient.texts() == [patient.seen("records_label_set", label=label(patient, "pathology"))]
    patient.sends_document(record_samples.dicom(), "IM000001", "application/octet-stream")
    assert patient.texts() == [
        patient.seen("records_received_guess", label=label(patient, "imaging"))
    ]
    patient.sends_document(record_samples.eicar_pdf(), "scan.pdf", "application/pdf")
    assert patient.texts() == [patient.seen("records_set_aside")]

    ticket = reception_api.get(f"/api/v1/tickets/{reference}").json()
    files = [(f["label"], f["content_type"], f["scan"]) for f in ticket["attachments"]]
    assert files[:2] == [
        ("pathology", "application/pdf", "clean"),
        ("imaging", "application/dicom", "clean"),
    ]
    assert files[2][2] == "infected"
    assert ticket["records"]["pathology"] == ticket["records"]["imaging"] == "have"
    kept = files_on_disk(stack, reference)
    assert len(kept) == 3
    assert b"Wendelbroek" not in b"".join(path.read_bytes() for path in kept)

    patient.says("/delete")
    patient.taps_key("erasure.confirm")
    assert patient.texts() == [patient.seen("erasure_done")]
    assert files_on_disk(stack, reference) == []
    assert reception_api.get(f"/api/v1/tickets/{reference}").json()["attachments"] == []

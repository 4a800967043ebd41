"""The upload page in headless Chromium, with tus-js-client: a file sent through the page, and
one whose upload survives the upload process being killed under it.

The upload service runs as a real process against the fake reception; the browser is driven
from a thread so that the fake reception, in this test's event loop, keeps answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from contentlib import ContentStore
from harness.stack import free_port
from tests.accessibility import assert_accessible
from tests.waiting import until

from .fake_reception import FakeReception
from .process import UploadsProcess
from .test_tus import TOKEN

pytestmark = [pytest.mark.browser]
pytest_plugins = ["tests.browser"]  # the `browser` fixture

# Chromium sends no faster than this, so that the upload is still under way when it is cut.
UPLOAD_BYTES_PER_SECOND = 2 * 1024 * 1024


@pytest.fixture
async def service(
    reception: tuple[FakeReception, str], tmp_path: Path
) -> AsyncIterator[UploadsProcess]:
    """The upload service as a process of its own."""
    running = UploadsProcess(free_port(), tmp_path / "uploads", reception[1], tmp_path / "log")
    await running.start()
    yield running
    running.stop()


def open_page(browser: webdriver.Chrome, url: str) -> None:
    """Open the page and wait until its script shows the file pickers."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.get(url)
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "choose").is_displayed())


def pick(browser: webdriver.Chrome, path: Path, label: str) -> None:
    """Choose one file, give it a label, and send it."""
    browser.find_element(By.ID, "pick-files").send_keys(str(path))
    Select(browser.find_element(By.CSS_SELECTOR, "#batches select")).select_by_value(label)
    browser.find_element(By.ID, "send").click()


def file_state(browser: webdriver.Chrome) -> str:
    """The state the page shows for the first file."""
    return (
        browser.find_element(By.CSS_SELECTOR, "#batches li.file").get_attribute("data-state") or ""
    )


async def test_a_file_sent_through_the_page_reaches_reception(
    service: UploadsProcess,
    reception: tuple[FakeReception, str],
    browser: webdriver.Chrome,
    content: ContentStore,
    tmp_path: Path,
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN, language="fr")
    record = tmp_path / "compte-rendu.pdf"
    record.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4000)
    await asyncio.to_thread(open_page, browser, f"{service.url}/records/{TOKEN}")
    await asyncio.to_thread(pick, browser, record, "pathology")
    await until(lambda: file_state(browser) == "received", timeout=30)
    assert fake.files[TOKEN] == [record.read_bytes()]
    assert fake.links[TOKEN].attachments[0]["label"] == "pathology"
    status = browser.find_element(By.CSS_SELECTOR, "#batches li.file .status").text
    assert status == content.text("uploads.state.received", "fr")
    received = browser.find_elements(By.CSS_SELECTOR, "#received li")
    assert [item.find_element(By.CSS_SELECTOR, ".kind").text for item in received] == [
        content.text("records.pathology.name", "fr")
    ]


async def test_an_upload_in_the_page_resumes_after_the_process_is_killed(
    service: UploadsProcess,
    reception: tuple[FakeReception, str],
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    record = tmp_path / "scan.dcm"
    record.write_bytes(bytes((i * 13) % 251 for i in range(6 * 1024 * 1024)))
    await asyncio.to_thread(open_page, browser, f"{service.url}/records/{TOKEN}")
    await asyncio.to_thread(
        browser.execute_cdp_cmd,
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )
    await asyncio.to_thread(pick, browser, record, "imaging")

    def part_size() -> int:
        parts = list(service.folder.rglob("*.part"))
        return parts[0].stat().st_size if parts else 0

    await until(lambda: part_size() > 0, timeout=30)
    service.kill()
    kept = part_size()
    assert 0 < kept < record.stat().st_size
    await until(lambda: file_state(browser) == "paused", timeout=30)
    await service.start()
    await until(lambda: file_state(browser) == "received", timeout=60)
    assert fake.files[TOKEN] == [record.read_bytes()]
    assert fake.links[TOKEN].attachments[0]["label"] == "imaging"
    # The same upload went on (one creation in the log), from what the disk had kept.
    assert service.log.read_text().count("POST /records/…/files/ 201") == 1


async def test_the_page_with_files_chosen_has_no_accessibility_violation(
    service: UploadsProcess,
    reception: tuple[FakeReception, str],
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN, language="nl").attachments.append(
        {"label": "blood", "size": 120_000, "scan": "infected", "received_at": "2026-12-01T09:00Z"}
    )
    record = tmp_path / "verslag.pdf"
    record.write_bytes(b"%PDF-1.7\n")
    await asyncio.to_thread(open_page, browser, f"{service.url}/records/{TOKEN}")
    await asyncio.to_thread(browser.find_element(By.ID, "pick-files").send_keys, str(record))
    await asyncio.to_thread(assert_accessible, browser)
    browser.set_window_size(390, 844)  # a phone
    try:
        await asyncio.to_thread(assert_accessible, browser)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, "nothing sticks out sideways on a phone"
        send = browser.find_element(By.ID, "send")
        assert send.size["height"] >= 44, "a button big enough for a finger"
    finally:
        browser.set_window_size(1000, 900)


async def test_an_expired_link_page_has_no_accessibility_violation(
    service: UploadsProcess, reception: tuple[FakeReception, str], browser: webdriver.Chrome
) -> None:
    reception[0].add_link(TOKEN, state="expired")
    await asyncio.to_thread(browser.get, f"{service.url}/records/{TOKEN}")
    await asyncio.to_thread(assert_accessible, browser)


async def test_a_cd_folder_is_sent_as_imaging_without_its_viewer_program(
    service: UploadsProcess,
    reception: tuple[FakeReception, str],
    browser: webdriver.Chrome,
    content: ContentStore,
    tmp_path: Path,
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    cd = tmp_path / "CD"
    (cd / "DICOM").mkdir(parents=True)
    images = {"DICOMDIR": b"\x00" * 128 + b"DICM dir", "DICOM/IM000001": b"\x00" * 128 + b"DICM 1"}
    for name, data in images.items():
        (cd / name).write_bytes(data)
    (cd / "viewer.exe").write_bytes(b"MZ viewer")
    (cd / "autorun.inf").write_bytes(b"[autorun]")
    await asyncio.to_thread(open_page, browser, f"{service.url}/records/{TOKEN}")
    await asyncio.to_thread(browser.find_element(By.ID, "pick-folder").send_keys, str(cd))
    rows = browser.find_elements(By.CSS_SELECTOR, "#batches li.file .name")
    assert sorted(row.text for row in rows) == ["CD/DICOM/IM000001", "CD/DICOMDIR"]
    label = Select(browser.find_element(By.CSS_SELECTOR, "#batches select"))
    assert label.first_selected_option.get_attribute("value") == "imaging"
    hints = browser.find_elements(By.CSS_SELECTOR, "#batches .hint")
    assert [hint.text for hint in hints] == [content.text("uploads.page.skipped_programs", "en")]
    await asyncio.to_thread(browser.find_element(By.ID, "send").click)

    def states() -> list[str]:
        return [
            row.get_attribute("data-state") or ""
            for row in browser.find_elements(By.CSS_SELECTOR, "#batches li.file")
        ]

    await until(lambda: states() == ["received", "received"], timeout=30)
    assert sorted(fake.files[TOKEN]) == sorted(images.values())
    assert {item["label"] for item in fake.links[TOKEN].attachments} == {"imaging"}

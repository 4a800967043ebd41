"""The web chat page in headless Chromium: it opens with the welcome, a patient types and gets
the assistant's reply, and sends a file to their request and labels it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from contentlib import ContentStore
from contentlib.markdown import to_plain_text
from harness.stack import Stack
from tests import record_samples
from tests.e2e.staff import ticket

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]  # the `browser` fixture, shared with the inbox test

WELCOME_BUTTONS = "#messages li.bot .buttons button"


def bot_messages(browser: webdriver.Chrome) -> list[str]:
    """The text of every assistant message on the page, without its buttons."""
    return [
        item.get_attribute("textContent") or ""
        for item in browser.find_elements(By.CSS_SELECTOR, "#messages li.bot .text")
    ]


def open_chat(browser: webdriver.Chrome, stack: Stack, session: str) -> int:
    """Open the page as a patient of this session; the number of messages the welcome shows."""
    browser.get(f"{stack.url('bot')}/")
    browser.execute_script("window.localStorage.setItem('webchat-session', arguments[0]);", session)
    browser.refresh()
    WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, WELCOME_BUTTONS))
    return len(bot_messages(browser))


def button(browser: webdriver.Chrome, title: str) -> WebElement:
    """The last button on the page with this title, once it can be clicked."""
    path = f"(//div[@class='buttons']/button[normalize-space()='{title}'])[last()]"
    return WebDriverWait(browser, 60).until(
        expected_conditions.element_to_be_clickable((By.XPATH, path))
    )


def test_the_page_opens_with_the_welcome_and_its_buttons_once(
    stack: Stack, browser: webdriver.Chrome, content: ContentStore
) -> None:
    """Nothing typed: the welcome is there; after a reload it is there again, once."""
    shown = open_chat(browser, stack, uuid.uuid4().hex)
    welcome = bot_messages(browser)
    assert welcome[0].startswith(to_plain_text(content.text("welcome", "en"))[:40])
    assert button(browser, content.text("consent.agree", "en"))
    assert browser.find_elements(By.CSS_SELECTOR, "#messages li.patient") == []

    browser.refresh()
    WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, WELCOME_BUTTONS))
    assert bot_messages(browser) == welcome
    assert len(welcome) == shown


def test_a_typed_message_gets_the_reply(
    stack: Stack, browser: webdriver.Chrome, content: ContentStore
) -> None:
    """Typing a greeting gets an answer in Markdown; agreeing opens the menu."""
    shown = open_chat(browser, stack, uuid.uuid4().hex)
    assert browser.title == content.text("webchat.title", "en")
    field = browser.find_element(By.ID, "message")
    assert field.get_attribute("placeholder") == content.text("webchat.placeholder", "en")

    field.send_keys("Hello")
    browser.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: len(bot_messages(b)) > shown)
    patient = browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")
    assert [item.text for item in patient] == ["Hello"]
    bold = browser.find_elements(By.CSS_SELECTOR, "#messages li.bot strong")
    assert bold, "Markdown bold is rendered as <strong>"

    agree = content.text("consent.agree", "en")
    button(browser, agree).click()
    wait.until(lambda b: content.text("menu_prompt", "en") in bot_messages(b)[-1])
    assert browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")[-1].text == agree
    # The tapped row is gone; the keyboard stays where the patient writes next.
    assert browser.switch_to.active_element.get_attribute("id") == "message"


def test_a_file_sent_from_the_page_reaches_the_request_and_takes_the_label_tapped(
    stack: Stack,
    browser: webdriver.Chrome,
    content: ContentStore,
    reception_api: httpx.Client,
    tmp_path: Path,
) -> None:
    """A PDF chosen with "Send a file" gets the receipt, a label tap changes its label on the
    ticket, and a file too big for the chat gets the upload page's link instead.
    """
    session = uuid.uuid4().hex
    created = reception_api.post("/api/v1/tickets", json=ticket("webchat", session))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    shown = open_chat(browser, stack, session)
    wait = WebDriverWait(browser, 60)

    attach = browser.find_element(By.CSS_SELECTOR, "label[for=file]")
    assert attach.is_displayed() and content.text("webchat.attach", "en") in attach.text
    report = tmp_path / "histology.pdf"
    report.write_bytes(record_samples.pdf("Histology of the left lung"))
    browser.find_element(By.ID, "file").send_keys(str(report))
    wait.until(lambda b: len(bot_messages(b)) > shown)
    [sent] = browser.find_elements(By.CSS_SELECTOR, "#messages li.patient.file")
    assert sent.text == "histology.pdf"  # its progress is gone once the answer is in
    reports = content.text("records.reports.name", "en")
    assert bot_messages(browser)[-1] == to_plain_text(
        content.text("records_received_guess", "en", label=reports)
    )

    pathology = content.text("records.pathology.name", "en")
    button(browser, pathology).click()
    wait.until(lambda b: len(bot_messages(b)) > shown + 1)
    assert bot_messages(browser)[-1] == to_plain_text(
        content.text("records_label_set", "en", label=pathology)
    )
    files = reception_api.get(f"/api/v1/tickets/{reference}").json()["attachments"]
    assert [(f["label"], f["content_type"], f["scan"]) for f in files] == [
        ("pathology", "application/pdf", "clean")
    ]

    scans = tmp_path / "scans.zip"
    scans.write_bytes(b"\0" * (20 * 1024 * 1024 + 1))
    browser.find_element(By.ID, "file").send_keys(str(scans))
    wait.until(lambda b: len(bot_messages(b)) > shown + 2)
    [link] = browser.find_elements(By.CSS_SELECTOR, "#messages li.bot:last-child .text a")
    assert str(link.get_attribute("href")).startswith(f"{stack.url('uploads')}/records/")
    assert len(reception_api.get(f"/api/v1/tickets/{reference}").json()["attachments"]) == 1

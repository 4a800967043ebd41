"""The reception inbox in headless Chromium: staff log in, see a ticket arrive, work it, and write
to the patient, who reads it on Telegram (through the emulator) or in the web chat.
"""

from __future__ import annotations

import html

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from contentlib import ContentStore
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.staff import sign_in, ticket

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]  # the `browser` fixture, shared with the web chat test

CHAT_ID = 70_101
WEBCHAT_SESSION = "inbox-browser-test-session"
EMAIL = "inbox-test@example.org"
PASSWORD = "a long password for the browser test"
STAFF_TEXT = "Your appointment is on Monday at 10:00. Bring your scans <please>."


@pytest.fixture(scope="module")
def signed_in(stack: Stack, browser: webdriver.Chrome) -> webdriver.Chrome:
    """Create a reception account with the CLI and log in with the keyboard alone."""
    stack.create_staff_user(EMAIL, PASSWORD, "reception")
    sign_in(browser, stack, EMAIL, PASSWORD)
    return browser


def test_staff_work_a_new_ticket_and_reach_the_patient_on_telegram(
    stack: Stack,
    telegram: TelegramEmulator,
    reception_api: httpx.Client,
    content: ContentStore,
    signed_in: webdriver.Chrome,
) -> None:
    browser = signed_in
    wait = WebDriverWait(browser, 30)
    browser.execute_script("window.sameInboxPage = true;")

    created = reception_api.post("/api/v1/tickets", json=ticket("telegram", str(CHAT_ID)))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    link = wait.until(lambda b: b.find_elements(By.LINK_TEXT, reference))[0]
    assert browser.execute_script("return window.sameInboxPage === true;"), "the page reloaded"
    assert reference in browser.find_element(By.ID, "inbox-live").text
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-reference="{reference}"]')
    assert "<b>Eve</b> Example" in row.text

    link.send_keys(Keys.ENTER)
    wait.until(lambda b: reference in b.find_element(By.TAG_NAME, "h1").text)
    assert browser.find_elements(By.CSS_SELECTOR, "#transcript li .text")[0].text == "<i>hi</i>"
    assert "1 of 2 still missing" in browser.page_source

    Select(browser.find_element(By.ID, "new-status")).select_by_value("in_progress")
    browser.find_element(By.ID, "new-status").submit()
    wait.until(lambda b: b.find_element(By.ID, "ticket-status").text == "In progress")
    assert browser.find_element(By.ID, "notice").text == "Status changed."

    mark = telegram.mark(CHAT_ID)
    browser.find_element(By.ID, "message-text").send_keys(STAFF_TEXT)
    browser.find_element(By.ID, "message-text").submit()
    wait.until(lambda b: b.find_element(By.ID, "notice").text.startswith("Message delivered"))
    header = content.text("staff_message", "en", reference=reference)
    expected = html.escape(f"{header}\n\n{STAFF_TEXT}", quote=False)
    received = telegram.wait_for(lambda messages: messages, CHAT_ID, after=mark, timeout=30)
    assert [message["text"] for message in received] == [expected]

    stored = reception_api.get(f"/api/v1/tickets/{reference}").json()
    assert stored["status"] == "in_progress"
    assert (stored["transcript"][-1]["sender"], stored["transcript"][-1]["text"]) == (
        "staff",
        STAFF_TEXT,
    )
    history = reception_api.get(f"/api/v1/tickets/{reference}/history").json()["items"]
    assert [(e["action"], e["actor"]) for e in history[1:]] == [
        ("status_changed", EMAIL),
        ("message_sent", EMAIL),
    ]


def test_a_web_chat_patient_sees_the_staff_message(
    stack: Stack, reception_api: httpx.Client, content: ContentStore, signed_in: webdriver.Chrome
) -> None:
    browser = signed_in
    browser.get(f"{stack.url('bot')}/")
    browser.execute_script(
        "window.localStorage.setItem('webchat-session', arguments[0]);", WEBCHAT_SESSION
    )
    browser.refresh()
    reference = reception_api.post(
        "/api/v1/tickets", json=ticket("webchat", WEBCHAT_SESSION)
    ).json()["reference"]
    sent = reception_api.post(f"/api/v1/tickets/{reference}/messages", json={"text": STAFF_TEXT})
    assert sent.status_code == 201, sent.text
    shown = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#messages li.staff")
    )
    header = content.text("staff_message", "en", reference=reference)
    assert [item.get_attribute("textContent") for item in shown] == [f"{header}\n\n{STAFF_TEXT}"]


def test_a_slash_code_becomes_the_canned_reply_in_the_patients_language(
    stack: Stack,
    reception_api: httpx.Client,
    content: ContentStore,
    signed_in: webdriver.Chrome,
) -> None:
    browser = signed_in
    wait = WebDriverWait(browser, 30)
    french = {**ticket("telegram", str(CHAT_ID + 1)), "language": "fr"}
    french["contact"] = {"name": "Odile Martin", "phone": "+32 470 00 00 02"}
    created = reception_api.post("/api/v1/tickets", json=french)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    browser.get(f"{stack.url('reception')}/inbox/tickets/{reference}")
    wait.until(lambda b: reference in b.find_element(By.TAG_NAME, "h1").text)
    box = browser.find_element(By.ID, "message-text")
    translation = browser.find_element(By.ID, "reply-translation")
    assert not translation.is_displayed()

    box.send_keys("/received", Keys.SPACE)
    variables = {"name": "Odile Martin", "reference": reference, "missing_records": ""}
    expected = content.text("replies.received.text", "fr", **variables)
    assert box.get_attribute("value") == expected
    assert translation.is_displayed()
    english = content.text("replies.received.text", "en", **variables)
    assert browser.find_element(By.ID, "reply-translation-text").text == english

    box.send_keys(" /nonexistent", Keys.TAB)  # not a reply: Tab moves on, as it always does
    assert box.get_attribute("value") == f"{expected} /nonexistent"
    assert browser.switch_to.active_element.get_attribute("id") != "message-text"

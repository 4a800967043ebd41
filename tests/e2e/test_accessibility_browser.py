"""Every page staff and patients meet passes axe-core at WCAG 2.2 AA in headless Chromium: the
login page, the inbox, a ticket page (also with a notice and with the list of shortcuts open)
and the web chat in the middle of a conversation.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness.stack import Stack
from tests.accessibility import assert_accessible
from tests.e2e.staff import sign_in, ticket

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]

EMAIL = "a11y-test@example.org"
PASSWORD = "a long password for the accessibility test"


@pytest.fixture(scope="module")
def staff_account(stack: Stack) -> str:
    """A reception account for this module's pages."""
    stack.create_staff_user(EMAIL, PASSWORD, "reception")
    return EMAIL


@pytest.fixture
def signed_in(stack: Stack, browser: webdriver.Chrome, staff_account: str) -> webdriver.Chrome:
    """The browser, signed in to reception (again, if the login page's test signed it out)."""
    browser.get(f"{stack.url('reception')}/inbox")
    if urlparse(browser.current_url).path != "/inbox":
        sign_in(browser, stack, staff_account, PASSWORD)
    return browser


@pytest.fixture
def reference(reception_api: httpx.Client) -> str:
    """A new ticket with missing records and a conversation, from the web chat."""
    created = reception_api.post("/api/v1/tickets", json=ticket("webchat", uuid.uuid4().hex))
    assert created.status_code == 201, created.text
    return str(created.json()["reference"])


def test_the_login_page(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('reception')}/login")
    browser.delete_all_cookies()
    browser.get(f"{stack.url('reception')}/login")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "email"))
    assert_accessible(browser)


def test_the_inbox_with_a_ticket(stack: Stack, signed_in: webdriver.Chrome, reference: str) -> None:
    browser = signed_in
    browser.get(f"{stack.url('reception')}/inbox")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.LINK_TEXT, reference))
    assert_accessible(browser)


def test_a_ticket_page_with_a_notice_and_the_list_of_shortcuts(
    stack: Stack, signed_in: webdriver.Chrome, reference: str
) -> None:
    browser = signed_in
    wait = WebDriverWait(browser, 30)
    browser.get(f"{stack.url('reception')}/inbox/tickets/{reference}")
    wait.until(lambda b: reference in b.find_element(By.TAG_NAME, "h1").text)
    assert_accessible(browser)

    browser.find_element(By.CSS_SELECTOR, "button[aria-keyshortcuts='a']").click()
    wait.until(lambda b: "done=assigned" in b.current_url)
    assert browser.find_element(By.ID, "ticket-assignee").text == EMAIL
    assert browser.find_elements(By.ID, "notice")
    assert_accessible(browser)

    ActionChains(browser).send_keys("?").perform()
    wait.until(lambda b: b.find_element(By.ID, "shortcuts").is_displayed())
    assert_accessible(browser)


def test_the_web_chat_in_a_conversation(stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{stack.url('bot')}/")
    browser.execute_script(
        "window.localStorage.setItem('webchat-session', arguments[0]);", uuid.uuid4().hex
    )
    browser.refresh()
    assert_accessible(browser)

    browser.find_element(By.ID, "message").send_keys("Hello")
    browser.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()
    WebDriverWait(browser, 60).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#messages li.bot .buttons button")
    )
    assert_accessible(browser)

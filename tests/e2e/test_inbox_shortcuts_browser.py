"""Reception's keyboard shortcuts in headless Chromium: j/k select a ticket in the inbox, o opens
it, a assigns it to me, n, r and s reach the note, the message and the status, ? lists the keys,
and no key is taken while staff type in a field.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from contentlib import ContentStore
from harness.stack import Stack
from tests.e2e.staff import sign_in, ticket

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]

EMAIL = "shortcuts-test@example.org"
PASSWORD = "a long password for the shortcuts test"


def press(browser: webdriver.Chrome, keys: str) -> None:
    """Type keys where the focus is, as a person at the keyboard would."""
    ActionChains(browser).send_keys(keys).perform()


def focused(browser: webdriver.Chrome) -> str:
    """Say what has the focus: its id, or the reference of the ticket row it sits in."""
    return str(
        browser.execute_script(
            "const at = document.activeElement;"
            "const row = at.closest('#tickets tr');"
            "return row ? row.dataset.reference : at.id;"
        )
    )


def shortcuts_shown(browser: webdriver.Chrome) -> bool:
    """Tell whether the list of shortcuts is open."""
    return browser.find_element(By.ID, "shortcuts").is_displayed()


def test_staff_work_the_inbox_and_a_ticket_from_the_keyboard(
    stack: Stack,
    browser: webdriver.Chrome,
    reception_api: httpx.Client,
    content: ContentStore,
) -> None:
    stack.create_staff_user(EMAIL, PASSWORD, "reception")
    sign_in(browser, stack, EMAIL, PASSWORD)
    wait = WebDriverWait(browser, 30)
    marker = uuid.uuid4().hex[:8]
    for number in range(3):
        body = ticket("telegram", f"7{number}{marker}")
        body["contact"] = {"name": f"Shortcut {marker} {number}", "phone": "+32 470 00 00 03"}
        assert reception_api.post("/api/v1/tickets", json=body).status_code == 201
    browser.get(f"{stack.url('reception')}/inbox?q=Shortcut+{marker}")
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#tickets tr")) == 3)
    rows = browser.execute_script(  # in one go: the list may redraw itself at any poll
        "return Array.from(document.querySelectorAll('#tickets tr'), (r) => r.dataset.reference);"
    )

    press(browser, "j")
    assert focused(browser) == rows[0]
    press(browser, "jj")
    assert focused(browser) == rows[2]
    press(browser, "j")  # the last row stays selected
    assert focused(browser) == rows[2]
    press(browser, "k")
    assert focused(browser) == rows[1]
    assert browser.execute_script(
        "return document.activeElement.closest('tr').matches(':focus-within');"
    )

    for modifier in (Keys.ALT, Keys.CONTROL):  # a browser's or a system's keys, not ours
        ActionChains(browser).key_down(modifier).send_keys("j").key_up(modifier).perform()
        assert focused(browser) == rows[1]

    press(browser, "?")
    wait.until(shortcuts_shown)
    assert focused(browser) != rows[1]
    press(browser, "j")  # the list is open: keys other than Escape and ? do nothing
    press(browser, Keys.ESCAPE)
    wait.until(lambda b: not shortcuts_shown(b))
    assert focused(browser) == rows[1]

    search = browser.find_element(By.ID, "filter-q")
    search.send_keys(" jko")  # typing, not moving
    assert (focused(browser), search.get_attribute("value")) == (
        "filter-q",
        f"Shortcut {marker} jko",
    )
    browser.execute_script("document.activeElement.blur();")
    press(browser, "k")  # with no ticket selected, k selects the last one
    assert focused(browser) == rows[2]
    press(browser, "j")
    assert focused(browser) == rows[2]
    press(browser, "kk")
    assert focused(browser) == rows[0]

    press(browser, "o")
    wait.until(lambda b: urlparse(b.current_url).path == f"/inbox/tickets/{rows[0]}")
    assert browser.find_element(By.ID, "ticket-assignee").text == "Nobody yet"
    press(browser, "a")
    wait.until(lambda b: "done=assigned" in b.current_url)
    assert browser.find_element(By.ID, "ticket-assignee").text == EMAIL
    assert browser.find_element(By.ID, "notice").text == "The ticket is assigned to you."

    press(browser, "n")
    assert focused(browser) == "note-text"
    press(browser, "jkoa?")
    assert browser.find_element(By.ID, "note-text").get_attribute("value") == "jkoa?"
    assert urlparse(browser.current_url).path == f"/inbox/tickets/{rows[0]}"
    assert not shortcuts_shown(browser)

    browser.execute_script("document.activeElement.blur();")
    press(browser, "s")
    assert focused(browser) == "new-status"
    browser.execute_script("document.activeElement.blur();")
    press(browser, "r")
    assert focused(browser) == "message-text"
    press(browser, "/received ")  # the canned reply still expands in the message box
    name = reception_api.get(f"/api/v1/tickets/{rows[0]}").json()["contact"]["name"]
    variables = {"name": name, "reference": rows[0], "missing_records": ""}
    expected = content.text("replies.received.text", "en", **variables)
    assert browser.find_element(By.ID, "message-text").get_attribute("value") == expected

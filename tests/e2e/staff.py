"""What the browser tests of reception share: signing in, and a ticket as the actions send it."""

from __future__ import annotations

from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from harness.stack import Stack


def ticket(channel: str, address: str) -> dict[str, object]:
    """A ticket as the actions would hand it over, with a name that looks like markup."""
    return {
        "kind": "request",
        "cancer_type": "lung",
        "department": "lung_clinic",
        "residence": "belgium",
        "records": {"reports": "have", "imaging": "not_yet"},
        "language": "en",
        "contact": {"name": "<b>Eve</b> Example", "phone": "+32 470 00 00 01"},
        "channel": channel,
        "channel_address": address,
        "transcript": [{"at": "2026-03-01T09:00:00Z", "sender": "patient", "text": "<i>hi</i>"}],
    }


def sign_in(browser: webdriver.Chrome, stack: Stack, email: str, password: str) -> None:
    """Log in to reception with the keyboard alone, as the login page's focus invites."""
    browser.get(f"{stack.url('reception')}/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: urlparse(b.current_url).path == "/login")
    assert browser.switch_to.active_element.get_attribute("id") == "email"
    browser.switch_to.active_element.send_keys(email, Keys.TAB, password, Keys.ENTER)
    wait.until(lambda b: urlparse(b.current_url).path == "/inbox")

"""The web chat page in headless Chromium: a patient types and gets the assistant's reply."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from contentlib import ContentStore
from contentlib.markdown import to_plain_text
from harness.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]  # the `browser` fixture, shared with the inbox test


def bot_messages(browser: webdriver.Chrome) -> list[str]:
    """The text of every assistant message on the page, without its buttons."""
    return [
        item.get_attribute("textContent") or ""
        for item in browser.find_elements(By.CSS_SELECTOR, "#messages li.bot")
    ]


def test_a_typed_message_gets_the_reply(
    stack: Stack, browser: webdriver.Chrome, content: ContentStore
) -> None:
    """Typing a greeting shows the welcome and the privacy notice; agreeing opens the menu."""
    browser.get(f"{stack.url('bot')}/")
    assert browser.title == content.text("webchat.title", "en")
    field = browser.find_element(By.ID, "message")
    assert field.get_attribute("placeholder") == content.text("webchat.placeholder", "en")

    field.send_keys("Hello")
    browser.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#messages li.bot")) >= 3)
    patient = browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")
    assert [item.text for item in patient] == ["Hello"]
    assert bot_messages(browser)[0].startswith(to_plain_text(content.text("welcome", "en"))[:40])
    bold = browser.find_elements(By.CSS_SELECTOR, "#messages li.bot strong")
    assert bold, "Markdown bold is rendered as <strong>"

    agree = content.text("consent.agree", "en")
    button = wait.until(
        expected_conditions.element_to_be_clickable(
            (By.XPATH, f"//div[@class='buttons']/button[normalize-space()='{agree}']")
        )
    )
    button.click()
    wait.until(lambda b: content.text("menu_prompt", "en") in bot_messages(b)[-1])
    assert browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")[-1].text == agree
    # The tapped row is gone; the keyboard stays where the patient writes next.
    assert browser.switch_to.active_element.get_attribute("id") == "message"

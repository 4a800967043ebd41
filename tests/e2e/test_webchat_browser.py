"""The web chat page in headless Chromium: a patient types and gets the assistant's reply."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from contentlib import ContentStore
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,900",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Debian's Chromium, driven through chromedriver."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("chromium and chromedriver are needed: run `make test`, which installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    session = webdriver.Chrome(service=ChromeService(executable_path=driver), options=options)
    yield session
    session.quit()


def bot_messages(browser: webdriver.Chrome) -> list[str]:
    """The text of every assistant message on the page, without its buttons."""
    return [
        item.get_attribute("textContent") or ""
        for item in browser.find_elements(By.CSS_SELECTOR, "#messages li.bot")
    ]


def test_a_typed_message_gets_the_reply(
    stack: Stack, browser: webdriver.Chrome, content: ContentStore
) -> None:
    """Typing a greeting shows the welcome; tapping a cancer-type button moves the request on."""
    browser.get(f"{stack.url('bot')}/")
    assert browser.title == content.text("webchat.title", "en")
    field = browser.find_element(By.ID, "message")
    assert field.get_attribute("placeholder") == content.text("webchat.placeholder", "en")

    field.send_keys("Hello")
    browser.find_element(By.CSS_SELECTOR, "#composer button[type=submit]").click()
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#messages li.bot")) >= 2)
    patient = browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")
    assert [item.text for item in patient] == ["Hello"]
    welcome = content.text("welcome", "en")
    assert any(text.startswith(welcome) for text in bot_messages(browser))

    breast = content.text("cancer_types.breast", "en")
    button = wait.until(
        expected_conditions.element_to_be_clickable(
            (By.XPATH, f"//div[@class='buttons']/button[normalize-space()='{breast}']")
        )
    )
    button.click()
    wait.until(lambda b: content.text("ask_residence", "en") in bot_messages(b)[-1])
    assert browser.find_elements(By.CSS_SELECTOR, "#messages li.patient")[-1].text == breast

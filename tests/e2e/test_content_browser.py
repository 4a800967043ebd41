"""The editors' pages in headless Chromium: the content preview asks the live model, and a
question a patient asked on Telegram becomes an example question of a topic.
"""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from contentlib import ContentStore
from contentlib.faq import load_topic
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]

EMAIL = "editor-test@example.org"
PASSWORD = "a long password for the editor test"
# Words no topic is about; the test uses the first one the live model does not understand.
NONSENSE = ("zorbly quenth vaxil", "flimwop drastle yurk", "plonk vretish ubbly")


@pytest.fixture(scope="module")
def editor(stack: Stack, browser: webdriver.Chrome) -> webdriver.Chrome:
    """Create an editor account with the CLI and log in."""
    stack.create_staff_user(EMAIL, PASSWORD, "editor")
    browser.get(f"{stack.url('reception')}/login")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_elements(By.ID, "email"))
    browser.find_element(By.ID, "email").send_keys(EMAIL, Keys.TAB, PASSWORD, Keys.ENTER)
    wait.until(lambda b: urlparse(b.current_url).path == "/inbox")
    return browser


def not_understood(stack: Stack) -> str:
    """A message the live model sends to the fallback."""
    for text in NONSENSE:
        parsed = httpx.post(
            f"{stack.url('rasa')}/model/parse",
            params={"token": stack.rasa_token},
            json={"text": text},
            timeout=30,
        ).json()
        if parsed["intent"]["name"] == "nlu_fallback":
            return text
    pytest.fail(f"the model understood every nonsense message: {NONSENSE}")


def test_the_preview_shows_answers_and_asks_the_live_model(
    stack: Stack, editor: webdriver.Chrome
) -> None:
    browser = editor
    store = ContentStore(stack.content_dir)
    browser.find_element(By.LINK_TEXT, "Content").click()
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_elements(By.ID, "topic-costs"))
    costs = browser.find_element(By.ID, "topic-costs")
    topic = store.topics("en")["costs"]
    assert costs.find_element(By.TAG_NAME, "h3").text == topic.title
    assert f"{len(topic.examples)} example questions" in costs.text
    assert "Cost matters" in costs.find_element(By.CLASS_NAME, "bubble").text
    welcome = browser.find_element(By.CSS_SELECTOR, "#message-welcome .bubble strong")
    assert welcome.text == "second opinions"
    assert browser.find_element(By.ID, "problems").text.startswith("No problems")
    assert browser.find_element(By.ID, "rasa-status").text.startswith("The assistant runs")

    question = browser.find_element(By.ID, "try-question")
    question.send_keys("how much does a second opinion cost", Keys.ENTER)
    wait.until(lambda b: b.find_elements(By.ID, "tried-pick"))
    pick = browser.find_element(By.ID, "tried-pick").text
    assert pick.startswith(f"{topic.title} (faq_costs), ") and pick.endswith("% sure")
    assert browser.find_element(By.ID, "tried-runner-up").text != "—"


def test_a_question_not_understood_becomes_an_example(
    stack: Stack, telegram: TelegramEmulator, editor: webdriver.Chrome
) -> None:
    browser = editor
    text = not_understood(stack)
    patient = Patient(telegram, ContentStore(stack.content_dir), 81_101, stack.bot_database)
    patient.consents()
    patient.says(text)
    topic_file = stack.content_dir / "en" / "faq" / "costs.md"
    original = topic_file.read_text()
    wait = WebDriverWait(browser, 30)
    try:
        browser.get(f"{stack.url('reception')}/content/gaps")
        row = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f'tr[data-key="{text}"]'))[0]
        assert row.find_element(By.CLASS_NAME, "question").text == text
        assert "1 time" in row.find_element(By.CLASS_NAME, "count").text
        Select(row.find_element(By.NAME, "topic")).select_by_value("costs")
        row.find_element(By.NAME, "question").submit()
        wait.until(lambda b: b.find_elements(By.ID, "notice"))
        assert browser.find_element(By.ID, "notice").text.startswith("The question was added")
        assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-key="{text}"]')
        assert load_topic(topic_file).examples[-1] == text
        assert topic_file.read_text() == original.replace("related:", f"  - {text}\nrelated:", 1)
    finally:
        topic_file.write_text(original)

"""Webhook mode: a second bot process, registered with its own Bot API emulator, next to the
shared stack's Rasa and reception. Telegram posts updates with the secret; nobody else gets in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contentlib import ContentStore
from harness.stack import VENV_PYTHON, Service, Stack, free_port
from harness.telegram_emulator import TelegramEmulator
from tests.e2e.patient import Patient

pytestmark = pytest.mark.e2e

TOKEN = "616161:webhook-test-token"
SECRET = "the-webhook-secret-of-the-test-0123456789"
PATH = "/telegram/webhook"


@dataclass
class WebhookBot:
    """The webhook bot, its emulator, and where Telegram posts to."""

    telegram: TelegramEmulator
    url: str
    service: Service
    database: Path


@pytest.fixture(scope="module")
def webhook_bot(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookBot]:
    """Start a bot in webhook mode and wait until it has registered its webhook."""
    workdir = Path(tmp_path_factory.mktemp("webhook-bot"))
    database = workdir / "bot.db"
    emulator = TelegramEmulator(token=TOKEN)
    emulator.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    env = {
        **stack.env(),
        "BOT_PORT": str(port),
        "BOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BOT_INSTANCE_NAME": "webhook-bot",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    service = Service(
        "webhook-bot",
        [str(VENV_PYTHON), "-m", "bot"],
        f"http://127.0.0.1:{port}/healthz",
        workdir / "bot.log",
    )
    service.start(env)
    try:
        service.wait_ready(time.monotonic() + 60)
        deadline = time.monotonic() + 30
        while not emulator.calls("setWebhook"):
            assert time.monotonic() < deadline, "the bot did not register its webhook"
            time.sleep(0.1)
        yield WebhookBot(emulator, url, service, database)
    finally:
        service.stop()
        emulator.stop()


def update(update_id: int, chat_id: int, text: str) -> dict:
    """A private text message as Telegram would post it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "en"},
        },
    }


def test_the_webhook_is_registered_with_the_secret(webhook_bot: WebhookBot) -> None:
    """The bot tells Telegram its URL and the secret to post with, for every kind of update."""
    [call] = webhook_bot.telegram.calls("setWebhook")
    assert call["params"]["url"] == webhook_bot.url
    assert call["params"]["secret_token"] == SECRET
    assert "message" in call["params"]["allowed_updates"]


def test_a_patient_talks_to_the_bot_through_the_webhook(
    webhook_bot: WebhookBot, content: ContentStore
) -> None:
    """Telegram posts the updates; the patient gets the welcome and can consent."""
    patient = Patient(webhook_bot.telegram, content, 73_001, webhook_bot.database)
    patient.consents()
    statuses = {d["status"] for d in webhook_bot.telegram.webhook_deliveries}
    assert statuses == {200}


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_a_request_without_the_secret_is_refused_and_ignored(
    webhook_bot: WebhookBot, headers: dict[str, str]
) -> None:
    """A forged update gets 401, and nothing is processed or sent."""
    chat_id = 73_002
    mark = webhook_bot.telegram.mark()
    response = httpx.post(
        webhook_bot.url, json=update(5_000_001, chat_id, "Hello"), headers=headers
    )
    assert response.status_code == 401
    time.sleep(2)
    assert webhook_bot.telegram.sent(chat_id, after=mark) == []


def test_malformed_posts_are_told_what_is_wrong(webhook_bot: WebhookBot) -> None:
    """Even with the secret, what is not an update gets a 400 that says why."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    for body in ("not json", "[1, 2]", '{"no": "update_id"}', '{"update_id": "7"}'):
        response = httpx.post(webhook_bot.url, content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["error"]["message"]


def test_an_update_posted_twice_is_answered_once(
    webhook_bot: WebhookBot, content: ContentStore
) -> None:
    """Telegram retries a webhook it thinks failed: the second copy changes nothing."""
    chat_id = 73_003
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    mark = webhook_bot.telegram.mark()
    for _ in range(2):
        response = httpx.post(
            webhook_bot.url, json=update(5_000_010, chat_id, "Hello"), headers=headers
        )
        assert response.status_code == 200
    welcome = Patient(webhook_bot.telegram, content, chat_id, webhook_bot.database)
    replies = welcome.replies(after=mark)
    time.sleep(2)
    assert [r["text"] for r in replies] == [
        welcome.seen("welcome"),
        welcome.seen("privacy_notice"),
        welcome.seen("consent_question"),
    ]
    assert len(webhook_bot.telegram.sent(chat_id, after=mark)) == 3

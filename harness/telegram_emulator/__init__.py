"""A Telegram Bot API emulator for end-to-end tests: the methods the bot calls, plus failures.

The emulator is an aiohttp server on 127.0.0.1 in a background thread, so that sync tests,
async tests and bot subprocesses can all talk to it::

    with TelegramEmulator(token="123456:TEST") as emulator:
        # in-process: ApplicationBuilder().token(TOKEN).base_url(emulator.base_url)
        # subprocess: TELEGRAM_API_BASE_URL=emulator.base_url
        mark = emulator.mark()
        emulator.send_text(42, "/start")
        replies = emulator.wait_for(None, 42, after=mark)  # or: await emulator.async_wait_for
        emulator.tap_button(42, emulator.buttons(replies[-1])[0][1])

It serves getMe, setWebhook, deleteWebhook, getUpdates, sendMessage, sendChatAction and
answerCallbackQuery, and checks texts as Telegram does (its HTML, 4096 characters, callback
data of at most 64 bytes). Any other method answers 404 and is noted: the next wait and
``stop`` raise UnservedCallError, so the test fails.
"""

from harness.telegram_emulator.emulator import TelegramEmulator
from harness.telegram_emulator.errors import (
    ButtonNotFoundError,
    TelegramApiError,
    UnservedCallError,
)

__all__ = ["ButtonNotFoundError", "TelegramApiError", "TelegramEmulator", "UnservedCallError"]

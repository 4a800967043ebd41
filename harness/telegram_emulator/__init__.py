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

        emulator.send_document(42, pdf_bytes, "report.pdf", "application/pdf")
        emulator.send_photo(42, jpeg_bytes)

It serves getMe, setWebhook, deleteWebhook, getUpdates, sendMessage, sendChatAction,
answerCallbackQuery and getFile (which refuses files over 20 MB as Telegram does), and the files'
bytes at ``/file/bot<token>/<file_path>``. It checks texts as Telegram does (its HTML, 4096
characters, callback data of at most 64 bytes), records whether each message had link previews
on, and then fetches its links as Telegram's preview crawler would (``link_visits``). Any other
method answers 404 and is noted: the next wait and ``stop`` raise UnservedCallError, so the test
fails.
"""

from harness.telegram_emulator.emulator import TelegramEmulator
from harness.telegram_emulator.errors import (
    ButtonNotFoundError,
    TelegramApiError,
    UnservedCallError,
)

__all__ = ["ButtonNotFoundError", "TelegramApiError", "TelegramEmulator", "UnservedCallError"]

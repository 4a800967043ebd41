"""The Telegram emulator, driven by python-telegram-bot itself and by raw HTTP (no mocks)."""

from __future__ import annotations

import datetime as dtm
import html
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from harness.telegram_emulator import ButtonNotFoundError, TelegramEmulator

TOKEN = "123456:TEST"
CHAT = 777
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Yes", callback_data="answer:yes")],
        [InlineKeyboardButton("No", callback_data="answer:no")],
    ]
)


@pytest.fixture
def emulator() -> Iterator[TelegramEmulator]:
    """A fresh emulator per test."""
    with TelegramEmulator(token=TOKEN) as running:
        yield running


def make_bot(emulator: TelegramEmulator, token: str = TOKEN) -> Bot:
    """A bare PTB Bot pointed at the emulator."""
    return Bot(token, base_url=emulator.base_url, base_file_url=emulator.base_file_url)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the patient's text in bold-prefixed HTML with a yes/no keyboard."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(
        f"<b>You said:</b> {html.escape(message.text)}",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
    )


async def welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /start."""
    assert update.effective_message is not None
    await update.effective_message.reply_text("Welcome!")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the query, remove the keyboard and confirm the choice."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    await query.answer("Noted")
    await query.edit_message_reply_markup(reply_markup=None)
    choice = query.data.split(":", 1)[1]
    await context.bot.send_message(update.effective_chat.id, f"You chose {choice}")


@pytest.fixture
async def application(emulator: TelegramEmulator) -> AsyncIterator[Application]:
    """A polling PTB application with the echo, /start and button handlers."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", welcome))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_text_and_button_round_trip(
    emulator: TelegramEmulator, application: Application
) -> None:
    """A text gets an HTML echo with a keyboard; a tap is answered, the keyboard removed."""
    emulator.send_text(CHAT, "I need a <second> opinion")
    replies = await emulator.async_wait_for_reply(CHAT, timeout=10, settle=0.2)

    assert [r["text"] for r in replies] == ["<b>You said:</b> I need a &lt;second&gt; opinion"]
    echoed = replies[0]
    assert echoed["method"] == "sendMessage"
    assert echoed["parse_mode"] == "HTML"
    assert emulator.buttons(echoed) == [("Yes", "answer:yes"), ("No", "answer:no")]
    assert echoed["message"]["text"] == "You said: I need a <second> opinion"
    assert echoed["message"]["from"]["id"] == 123456

    mark = emulator.mark(CHAT)
    emulator.tap_button(CHAT, "answer:yes")
    replies = await emulator.async_wait_for_reply(CHAT, after=mark, timeout=10, settle=0.2)

    assert [r["method"] for r in replies] == ["editMessageReplyMarkup", "sendMessage"]
    assert replies[0]["message_id"] == echoed["message_id"]
    assert emulator.buttons(replies[0]) == []
    assert replies[1]["text"] == "You chose yes"
    assert [(a["text"], a["data"], a["chat_id"]) for a in emulator.answered_callbacks] == [
        ("Noted", "answer:yes", CHAT)
    ]
    assert emulator.texts(CHAT) == [echoed["text"], "You chose yes"]
    assert emulator.unknown_methods == []
    assert emulator.internal_errors == []
    with pytest.raises(ButtonNotFoundError, match="answer:no"):
        emulator.tap_button(CHAT, "answer:no")  # the keyboard is gone


async def test_commands_carry_a_bot_command_entity(
    emulator: TelegramEmulator, application: Application
) -> None:
    """/start reaches the CommandHandler, not the text echo."""
    emulator.send_text(CHAT, "/start")
    await emulator.async_wait_for("Welcome!", CHAT, timeout=10)
    assert emulator.texts(CHAT) == ["Welcome!"]
    assert application.bot.username == "test_bot"


async def test_wrong_token_is_rejected_on_initialize(emulator: TelegramEmulator) -> None:
    """PTB turns the 401 answer into InvalidToken."""
    app = (
        ApplicationBuilder()
        .token("654321:WRONG")
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )
    try:
        with pytest.raises(InvalidToken):
            await app.initialize()
    finally:
        await app.bot.shutdown()
    assert emulator.calls() == []


async def test_injected_failures(
    emulator: TelegramEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fail_next and set_down surface as PTB's RetryAfter, Forbidden and NetworkError."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter warns about int seconds otherwise
    async with make_bot(emulator) as bot:
        emulator.fail_next("sendMessage", retry_after=7)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "hello")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
        message = await bot.send_message(CHAT, "hello")
        assert message.text == "hello"

        emulator.fail_next("sendMessage", error_code=403, description="Forbidden: bot was blocked")
        with pytest.raises(Forbidden):
            await bot.send_message(CHAT, "still there?")

        emulator.set_down(True)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CHAT, "anyone?")
        emulator.set_down(False)
        await bot.send_message(CHAT, "back")

    errors = [c["error"] and c["error"]["error_code"] for c in emulator.calls("sendMessage")]
    assert errors == [429, None, 403, 502, None]
    assert emulator.texts(CHAT) == ["hello", "back"]


async def test_get_updates_offset_limit_timeout_and_allowed_updates(
    emulator: TelegramEmulator,
) -> None:
    """Offsets confirm updates, limit caps, long polls wake up, allowed_updates filters."""
    async with make_bot(emulator) as bot:
        ids = [emulator.send_text(CHAT, f"m{i}") for i in range(3)]
        assert ids == sorted(ids)
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == ids
        assert [u.message.text for u in updates if u.message] == ["m0", "m1", "m2"]
        assert updates[0].message and updates[0].message.from_user
        assert updates[0].message.from_user.id == CHAT

        assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
        assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
        assert [u.update_id for u in await bot.get_updates()] == ids[1:]  # not yet confirmed
        assert await bot.get_updates(offset=ids[2] + 1) == ()
        assert emulator.pending_updates == 0

        timer = threading.Timer(0.3, emulator.send_text, args=(CHAT, "late"))
        started = time.monotonic()
        timer.start()
        try:
            updates = await bot.get_updates(timeout=10)
        finally:
            timer.join()
        assert [u.message.text for u in updates if u.message] == ["late"]
        assert time.monotonic() - started < 3

        emulator.send_text(CHAT, "typed")
        emulator.send_update(
            {
                "callback_query": {
                    "id": "q1",
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Test"},
                    "chat_instance": "c",
                    "data": "x",
                }
            }
        )
        updates = await bot.get_updates(
            offset=updates[-1].update_id + 1, allowed_updates=["callback_query"]
        )
        assert [u.callback_query.data for u in updates if u.callback_query] == ["x"]
        assert len(updates) == 1

        for text in ("a", "b", "c"):
            emulator.send_text(CHAT, text)
        updates = await bot.get_updates(offset=-2, allowed_updates=[])
        assert [u.message.text for u in updates if u.message] == ["b", "c"]
        assert emulator.get_updates_count == 8


def test_raw_http_bodies_errors_and_formatting(emulator: TelegramEmulator) -> None:
    """JSON, form and query bodies work; errors look like the real API's."""
    api = f"{emulator.base_url}{TOKEN}"
    with httpx.Client(timeout=5) as client:
        me = client.get(f"{api}/getMe").json()
        assert me["ok"] and me["result"]["is_bot"] and me["result"]["id"] == 123456

        keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
        sent = client.post(
            f"{api}/sendMessage", json={"chat_id": CHAT, "text": "json", "reply_markup": keyboard}
        ).json()["result"]
        assert sent["message_id"] == 1 and sent["reply_markup"] == keyboard
        form = {"chat_id": str(CHAT), "text": "form", "reply_markup": '{"keyboard": [["Hi"]]}'}
        sent = client.post(f"{api}/sendMessage", data=form).json()["result"]
        assert sent["message_id"] == 2 and "reply_markup" not in sent
        assert [emulator.buttons(c) for c in emulator.sent(CHAT)] == [
            [("Go", "go")],
            [("Hi", None)],
        ]

        unknown = client.post(f"{api}/sendTelepathy", data={"chat_id": str(CHAT)})
        assert (unknown.status_code, unknown.json()["description"]) == (
            400,
            "Bad Request: method not found",
        )
        assert emulator.unknown_methods == ["sendTelepathy"]
        wrong = client.post(f"{emulator.base_url}1:NOPE/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        def send(text: str, parse_mode: str) -> httpx.Response:
            payload = {"chat_id": str(CHAT), "text": text, "parse_mode": parse_mode}
            return client.post(f"{api}/sendMessage", data=payload)

        assert 'Unsupported start tag "br"' in send("a<br>b", "HTML").json()["description"]
        assert "end tag" in send("<b>bold", "HTML").json()["description"]
        assert "Character '.' is reserved" in send("Thanks.", "MarkdownV2").json()["description"]
        assert send("*Thanks\\.*", "MarkdownV2").json()["result"]["text"] == "Thanks."
        assert send("x" * 4097, "").json()["description"] == "Bad Request: message is too long"
        long_data = {"inline_keyboard": [[{"text": "X", "callback_data": "d" * 65}]]}
        bad = client.post(
            f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x", "reply_markup": long_data}
        )
        assert bad.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"

        emulator.set_down(True)
        assert client.post(f"{api}/getMe").status_code == 502
    assert emulator.internal_errors == []


def test_sync_wait_for_reply_settles(emulator: TelegramEmulator) -> None:
    """wait_for_reply returns a burst of messages once the chat has been quiet for `settle`."""
    api = f"{emulator.base_url}{TOKEN}"

    def bot() -> None:
        with httpx.Client(timeout=5) as client:
            for text in ("one", "two"):
                time.sleep(0.2)
                client.post(f"{api}/sendMessage", data={"chat_id": str(CHAT), "text": text})

    mark = emulator.mark(CHAT)
    thread = threading.Thread(target=bot)
    thread.start()
    try:
        replies = emulator.wait_for_reply(CHAT, after=mark, timeout=5, settle=0.4)
    finally:
        thread.join()
    assert [r["text"] for r in replies] == ["one", "two"]
    assert [r["seq"] for r in replies] == sorted(r["seq"] for r in replies)
    assert emulator.wait_for(lambda messages: len(messages) == 2, CHAT, timeout=1) == replies
    with pytest.raises(AssertionError, match=r"(?s)3 bot message.*'one'.*'two'"):
        emulator.wait_for(None, CHAT, count=3, timeout=0.2)
    with pytest.raises(AssertionError, match="a reply"):
        emulator.wait_for_reply(CHAT, after=emulator.mark(CHAT), timeout=0.2)


async def test_files_edits_and_button_lookup(emulator: TelegramEmulator) -> None:
    """Uploads go both ways; edits follow the real API's rules; taps need a shown button."""
    async with make_bot(emulator) as bot:
        emulator.send_document(CHAT, b"%PDF-1.4 scan", "scan.pdf", caption="my report")
        (update,) = await bot.get_updates()
        assert update.message and update.message.document and update.message.caption
        file = await bot.get_file(update.message.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 scan"

        sent = await bot.send_document(CHAT, document=b"summary", filename="summary.txt")
        assert sent.document and sent.document.file_name == "summary.txt"
        assert emulator.sent(CHAT)[-1]["files"]["document"]["data"] == b"summary"

        with pytest.raises(ButtonNotFoundError, match="current keyboards: none"):
            emulator.tap_button(CHAT, "pick")
        message = await bot.send_message(CHAT, "Pick one", reply_markup=KEYBOARD)
        edited = await bot.edit_message_text("Pick again", CHAT, message.message_id)
        assert not isinstance(edited, bool) and edited.reply_markup is None  # keyboard dropped
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Pick again", CHAT, message.message_id)
        await bot.edit_message_reply_markup(CHAT, message.message_id, reply_markup=KEYBOARD)
        emulator.tap_label(CHAT, "No")
        (update,) = await bot.get_updates(offset=update.update_id + 1)
        query = update.callback_query
        assert query is not None and query.data == "answer:no"
        assert query.message is not None and query.message.message_id == message.message_id
        assert await query.answer("ok") is True
        emulator.tap_button(CHAT, "stale", message_id=999, allow_unknown=True)
        assert emulator.texts(CHAT) == ["Pick one", "Pick again"]

"""The Telegram emulator, driven by python-telegram-bot itself and by raw HTTP (no mocks)."""

from __future__ import annotations

import datetime as dtm
import html
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from harness.telegram_emulator import ButtonNotFoundError, TelegramEmulator, UnservedCallError
from tests.waiting import until

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
    """A fresh emulator per test (its stop fails the test on an unserved call)."""
    with TelegramEmulator(token=TOKEN) as running:
        yield running


def make_bot(emulator: TelegramEmulator, token: str = TOKEN) -> Bot:
    """A bare PTB Bot pointed at the emulator."""
    return Bot(token, base_url=emulator.base_url)


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
    assert update.effective_chat is not None
    await update.effective_chat.send_action("typing")
    await context.bot.send_message(update.effective_chat.id, "Welcome!")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the query and confirm the choice."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    await query.answer("Noted")
    choice = query.data.split(":", 1)[1]
    await context.bot.send_message(update.effective_chat.id, f"You chose {choice}")


@pytest.fixture
async def application(emulator: TelegramEmulator) -> AsyncIterator[Application]:
    """A polling PTB application with the echo, /start and button handlers."""
    app = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).build()
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
    """A text gets an HTML echo with a keyboard; a tap is answered and followed up."""
    mark = emulator.mark()
    emulator.send_text(CHAT, "I need a <second> opinion")
    [echoed] = await emulator.async_wait_for(None, CHAT, after=mark, timeout=10)

    assert echoed["text"] == "<b>You said:</b> I need a &lt;second&gt; opinion"
    assert (echoed["method"], echoed["parse_mode"]) == ("sendMessage", "HTML")
    assert emulator.buttons(echoed) == [("Yes", "answer:yes"), ("No", "answer:no")]
    assert echoed["message"]["text"] == "You said: I need a <second> opinion"
    assert echoed["message"]["from"]["id"] == 123456

    mark = emulator.mark()
    emulator.tap_button(CHAT, "answer:yes")
    await emulator.async_wait_for("You chose yes", CHAT, after=mark, timeout=10)
    assert [(a["text"], a["data"], a["chat_id"]) for a in emulator.answered_callbacks] == [
        ("Noted", "answer:yes", CHAT)
    ]
    assert emulator.texts(CHAT) == [echoed["text"], "You chose yes"]
    with pytest.raises(ButtonNotFoundError, match="answer:maybe"):
        emulator.tap_button(CHAT, "answer:maybe")


async def test_commands_carry_a_bot_command_entity(
    emulator: TelegramEmulator, application: Application
) -> None:
    """/start reaches the CommandHandler, not the text echo."""
    emulator.send_text(CHAT, "/start")
    await emulator.async_wait_for("Welcome!", CHAT, timeout=10)
    assert emulator.texts(CHAT) == ["Welcome!"]
    assert [c["params"]["action"] for c in emulator.calls("sendChatAction")] == ["typing"]
    assert application.bot.username == "test_bot"


async def test_wrong_token_is_rejected_on_initialize(emulator: TelegramEmulator) -> None:
    """PTB turns the 401 answer into InvalidToken."""
    app = ApplicationBuilder().token("654321:WRONG").base_url(emulator.base_url).build()
    try:
        with pytest.raises(InvalidToken):
            await app.initialize()
    finally:
        await app.bot.shutdown()
    assert emulator.calls() == []


async def test_an_unknown_method_fails_the_test() -> None:
    """A method the emulator lacks answers 404 as Telegram does, and fails the next wait and
    stop; so does a feature it does not check (MarkdownV2).
    """
    emulator = TelegramEmulator(token=TOKEN).start()
    try:
        async with make_bot(emulator) as bot:
            mark = emulator.mark()
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": CHAT})
            with pytest.raises(UnservedCallError, match="sendTelepathy: Not Found"):
                await emulator.async_wait_for(None, CHAT, after=mark, timeout=5)
            later = emulator.mark()  # what came before a marker fails no later wait
            await bot.send_message(CHAT, "fine")
            assert len(await emulator.async_wait_for(None, CHAT, after=later, timeout=5)) == 1
            with pytest.raises(BadRequest, match=r"(?i)does not check parse_mode markdownv2"):
                await bot.send_message(CHAT, "*hi*", parse_mode=ParseMode.MARKDOWN_V2)
        [call] = emulator.calls("sendTelepathy")
        assert call["error"]["error_code"] == 404
    finally:
        with pytest.raises(UnservedCallError, match=r"(?s)sendTelepathy.*sendMessage"):
            emulator.stop()


async def test_injected_failures(
    emulator: TelegramEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Injected failures surface as PTB's RetryAfter, Forbidden and NetworkError."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter warns about int seconds otherwise
    async with make_bot(emulator) as bot:
        emulator.fail_next("sendMessage", retry_after=7)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "hello")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
        assert (await bot.send_message(CHAT, "hello")).text == "hello"

        emulator.fail_next("sendMessage", times=2, error_code=400)
        for _ in range(2):
            with pytest.raises(BadRequest, match=r"(?i)injected failure"):
                await bot.send_message(CHAT, "twice refused")

        emulator.set_blocked(CHAT)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(CHAT, "still there?")
        await bot.send_message(CHAT + 1, "someone else")

        emulator.set_down()
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CHAT + 1, "anyone?")
        emulator.clear_failures()
        await bot.send_message(CHAT, "back")

    errors = [c["error"] and c["error"]["error_code"] for c in emulator.calls("sendMessage")]
    assert errors == [429, None, 400, 400, 403, None, 502, None]
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


async def test_the_webhook_gets_each_update_until_it_accepts_it(
    emulator: TelegramEmulator,
) -> None:
    """Updates are posted with the secret and retried after a failure; polling is refused."""
    statuses = [500, 200]
    received: list[tuple[str | None, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body["message"]["text"])
        )
        return web.Response(status=statuses.pop(0))

    app = web.Application()
    app.router.add_post("/hook", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with make_bot(emulator) as bot:
            await bot.set_webhook(str(server.make_url("/hook")), secret_token="s3cret")
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            update_id = emulator.send_text(CHAT, "hello")
            await until(lambda: len(emulator.webhook_deliveries) == 2, timeout=5)
            await bot.delete_webhook()
            assert await bot.get_updates() == ()
    finally:
        await server.close()
    assert received == [("s3cret", "hello"), ("s3cret", "hello")]
    assert emulator.webhook_deliveries == [
        {"update_id": update_id, "status": 500},
        {"update_id": update_id, "status": 200},
    ]


def test_raw_http_bodies_errors_and_formatting(emulator: TelegramEmulator) -> None:
    """JSON and form bodies work; errors and formatting checks look like the real API's."""
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

        wrong = client.post(f"{emulator.base_url}1:NOPE/getMe")
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        assert client.get(f"{emulator.base_url.removesuffix('/bot')}/elsewhere").status_code == 404

        def send(text: str) -> str:
            payload = {"chat_id": str(CHAT), "text": text, "parse_mode": "HTML"}
            return client.post(f"{api}/sendMessage", data=payload).json()["description"]

        assert 'Unsupported start tag "br"' in send("a<br>b")
        assert "end tag" in send("<b>bold")
        assert send("x" * 4097) == "Bad Request: message is too long"
        assert send("<b> </b>") == "Bad Request: message text is empty"
        long_data = {"inline_keyboard": [[{"text": "X", "callback_data": "d" * 65}]]}
        bad = client.post(
            f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x", "reply_markup": long_data}
        )
        assert bad.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"

        emulator.set_down()
        assert client.post(f"{api}/getMe").status_code == 502
        assert client.post(f"{emulator.base_url}1:NOPE/getMe").status_code == 502


def test_sync_wait_for_reports_what_arrived(emulator: TelegramEmulator) -> None:
    """wait_for blocks until its condition holds; on timeout it lists what the chat received."""
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
        replies = emulator.wait_for(None, CHAT, count=2, after=mark, timeout=5)
    finally:
        thread.join()
    assert [r["text"] for r in replies] == ["one", "two"]
    assert [r["seq"] for r in replies] == sorted(r["seq"] for r in replies)
    assert emulator.wait_for("two", CHAT, timeout=1) == replies
    assert emulator.wait_for(lambda messages: len(messages) == 2, CHAT, timeout=1) == replies
    with pytest.raises(AssertionError, match=r"(?s)3 bot message.*'one'.*'two'"):
        emulator.wait_for(None, CHAT, count=3, timeout=0.2)


async def test_taps_need_a_button_the_bot_showed(emulator: TelegramEmulator) -> None:
    """A tap carries the message with the button; a forged tap needs allow_unknown."""
    async with make_bot(emulator) as bot:
        with pytest.raises(ButtonNotFoundError, match="current keyboards: none"):
            emulator.tap_button(CHAT, "answer:no")
        message = await bot.send_message(CHAT, "Pick one", reply_markup=KEYBOARD)
        await bot.send_message(CHAT, "No keyboard here")
        emulator.tap_button(CHAT, "answer:no")
        (update,) = await bot.get_updates()
        query = update.callback_query
        assert query is not None and query.data == "answer:no"
        assert query.message is not None and query.message.message_id == message.message_id
        assert await query.answer("ok") is True

        emulator.tap_button(CHAT, "stale", message_id=999, allow_unknown=True)
        (update,) = await bot.get_updates(offset=update.update_id + 1)
        assert update.callback_query and update.callback_query.message
        assert update.callback_query.message.message_id == 999
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("no-such-query")
    assert len(emulator.answered_callbacks) == 1


def file_bot(emulator: TelegramEmulator) -> Bot:
    """A bare PTB Bot pointed at the emulator's API and its file URLs."""
    return Bot(TOKEN, base_url=emulator.base_url, base_file_url=emulator.base_file_url)


async def test_a_document_and_a_photo_are_downloaded_with_get_file(
    emulator: TelegramEmulator,
) -> None:
    """The bot gets the bytes the patient sent; a photo's largest size is the photo itself."""
    pdf = b"%PDF-1.4\n% a report\n%%EOF\n"
    emulator.send_document(CHAT, pdf, "report.pdf", "application/pdf")
    emulator.send_photo(CHAT, b"\xff\xd8\xff\xe0 a photo", width=1600, height=1200)
    async with file_bot(emulator) as bot:
        document_update, photo_update = await bot.get_updates(timeout=1)
        document = document_update.message.document
        assert (document.file_name, document.mime_type, document.file_size) == (
            "report.pdf",
            "application/pdf",
            len(pdf),
        )
        assert document.file_unique_id
        file = await bot.get_file(document.file_id)
        assert file.file_path and file.file_path.endswith(".pdf")
        assert bytes(await file.download_as_bytearray()) == pdf

        sizes = photo_update.message.photo
        assert [(s.width, s.height) for s in sizes] == [(90, 68), (320, 240), (1600, 1200)]
        largest = await bot.get_file(sizes[-1].file_id)
        assert bytes(await largest.download_as_bytearray()) == b"\xff\xd8\xff\xe0 a photo"
        thumbnail = await bot.get_file(sizes[0].file_id)
        assert bytes(await thumbnail.download_as_bytearray()) != b"\xff\xd8\xff\xe0 a photo"
    assert [d["found"] for d in emulator.downloads] == [True, True, True]


async def test_files_over_20_mb_are_refused_as_telegram_refuses_them(
    emulator: TelegramEmulator,
) -> None:
    """Telegram's getFile answers "file is too big"; no download path is ever given out."""
    emulator.send_document(CHAT, b"0" * (20 * 1024 * 1024 + 1), "scan.zip", "application/zip")
    async with file_bot(emulator) as bot:
        [update] = await bot.get_updates(timeout=1)
        document = update.message.document
        assert document.file_size == 20 * 1024 * 1024 + 1
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(document.file_id)
        with pytest.raises(BadRequest):
            await bot.get_file("never-sent")
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(
            f"{emulator.base_url}{TOKEN}/getFile", json={"file_id": document.file_id}
        )
        assert answer.status_code == 400
        assert answer.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: file is too big",
        }
        missing = await client.get(f"{emulator.base_file_url}{TOKEN}/documents/file_1.zip")
        assert missing.status_code == 404


async def test_links_are_fetched_unless_previews_are_disabled(emulator: TelegramEmulator) -> None:
    """Telegram's crawler opens each link of a message with previews on, and no other."""
    visitors: list[tuple[str, str]] = []

    async def page(request: web.Request) -> web.Response:
        visitors.append((request.path, request.headers.get("User-Agent", "")))
        return web.Response(text="a page")

    app = web.Application()
    app.router.add_get("/{name}", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    site = str(server.make_url("")).rstrip("/")
    try:
        async with make_bot(emulator) as bot:
            shown = await bot.send_message(
                CHAT, f'See <a href="{site}/linked">this</a> or {site}/typed.', parse_mode="HTML"
            )
            hidden = await bot.send_message(
                CHAT,
                f"Your link: {site}/secret",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            await bot.send_message(CHAT, "Elsewhere: https://example.org/page")
        await until(
            lambda: all(v["status"] is not None for v in emulator.link_visits if v["fetched"])
        )
    finally:
        await server.close()
    first, second, third = emulator.sent(CHAT)
    assert (first["link_preview_disabled"], second["link_preview_disabled"]) == (False, True)
    assert second["links"] == [f"{site}/secret"]
    assert [(v["url"], v["fetched"], v["status"]) for v in emulator.link_visits] == [
        (f"{site}/linked", True, 200),
        (f"{site}/typed", True, 200),
        ("https://example.org/page", False, None),
    ]
    assert sorted(visitors) == [
        ("/linked", "TelegramBot (like TwitterBot)"),
        ("/typed", "TelegramBot (like TwitterBot)"),
    ]
    assert (shown.message_id, hidden.message_id) == (first["message_id"], second["message_id"])
    assert third["links"] == ["https://example.org/page"]

"""Records sent on Telegram (bot/records.py): python-telegram-bot against the Bot API
emulator, with a small reception that answers as notes/records-contract.md says.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.attachments import LABELS, LabelChoice
from bot.conversation import Conversation
from bot.rasa_client import WEBHOOK_PATH, RasaClient
from bot.safety import SafetyFilter
from bot.settings import Settings
from bot.telegram_channel import TelegramChannel
from bot.telegram_intake import Polling
from contentlib import ContentStore
from contentlib.markdown import to_telegram_html
from harness.stack import ROOT
from harness.telegram_emulator import TelegramEmulator
from outbox import Outbox, create_engine, upgrade
from tests.bot.reception_fake import MB, RECEPTION_TOKEN, FakeReception, serving
from tests.bot.test_telegram_channel import FakeRasa

TOKEN = "535353:records-test-token"
PUBLIC_URL = "https://assistant.example.org"
CHAT = 53_001


def pdf_document(text: str = "Discharge letter") -> bytes:
    """A small, valid one-page PDF with a line of text, made here."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    """A Bot API emulator of this test's own."""
    with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def reception() -> AsyncIterator[tuple[FakeReception, TestServer]]:
    """The stand-in reception on loopback, with an open request for CHAT."""
    fake = FakeReception(open_requests={str(CHAT)})
    async with serving(fake) as server:
        yield fake, server


@pytest.fixture
async def bot(
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    content: ContentStore,
    safety: SafetyFilter,
    tmp_path: Path,
) -> AsyncIterator[FakeRasa]:
    """The Telegram channel polling the emulator, with reception's URL; its Rasa's record."""
    rasa = FakeRasa()
    rasa_app = web.Application()
    rasa_app.router.add_post(WEBHOOK_PATH, rasa.webhook)
    rasa_server = TestServer(rasa_app, host="127.0.0.1")
    await rasa_server.start_server()
    settings = Settings(
        rasa_url=str(rasa_server.make_url("")).rstrip("/"),
        reception_url=str(reception[1].make_url("")).rstrip("/"),
        reception_api_token=RECEPTION_TOKEN,
        uploads_url=PUBLIC_URL,
        content_dir=ROOT / "content",
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        instance_name="bot-under-test",
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(RasaClient(settings.rasa_url, session), content, safety)
        channel = TelegramChannel(settings, conversation, Outbox(engine, settings.instance_name))
        await channel.start()
        polling = Polling(channel, timeout_seconds=1)
        await polling.start()
        try:
            yield rasa
        finally:
            await polling.stop()
            await channel.stop()
    await engine.dispose()
    await rasa_server.close()


@dataclass
class Chat:
    """The patient's side of the test: send, read what came back, in the content's words."""

    telegram: TelegramEmulator
    content: ContentStore
    chat_id: int = CHAT
    language: str = "en"

    def seen(self, key: str, **variables: Any) -> str:
        """What the patient sees for a content key."""
        return to_telegram_html(self.content.text(key, self.language, **variables))

    def label(self, label: str) -> str:
        """A label's name, as its button shows it."""
        if label == "other":
            return str(self.content.text("records_label_other", self.language))
        return str(self.content.text(f"records.{label}.name", self.language))

    async def answer(self, send: Callable[[], int], count: int = 1) -> list[dict[str, Any]]:
        """Do something, then wait for `count` bot messages in answer."""
        mark = self.telegram.mark()
        send()
        return await self.telegram.async_wait_for(None, self.chat_id, count=count, after=mark)


@pytest.fixture
def chat(telegram: TelegramEmulator, content: ContentStore) -> Chat:
    """The patient of CHAT."""
    return Chat(telegram, content)


async def test_a_pdf_reaches_reception_intact_and_gets_a_receipt_with_label_buttons(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    pdf = pdf_document()
    [receipt] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf, "letter.pdf", "application/pdf")
    )
    [posted] = reception[0].posted()
    assert posted["data"] == pdf
    assert posted["content_type"] == "application/octet-stream"
    assert posted["query"] == {"channel": "telegram", "channel_address": str(CHAT)}
    assert str(posted["key"]).startswith(f"telegram:{CHAT}:")  # sent again, it adds nothing
    assert receipt["text"] == chat.seen("records_received_guess", label=chat.label("reports"))
    titles = [title for title, _ in telegram.buttons(receipt)]
    assert titles == [
        chat.seen("records_label_confirm"),
        *(chat.label(label) for label in LABELS if label != "reports"),
    ]
    assert bot.received == []  # Rasa never hears of it


async def test_a_tap_on_a_label_sets_it_at_reception_and_confirms_it(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    [receipt] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf_document(), "blood.pdf", "application/pdf")
    )
    data = dict(telegram.buttons(receipt))[chat.label("blood")]
    assert data is not None
    [confirmed] = await chat.answer(lambda: telegram.tap_button(CHAT, data))
    assert confirmed["text"] == chat.seen("records_label_set", label=chat.label("blood"))
    [kept] = reception[0].files.values()
    assert (kept["label"], kept["label_guessed"]) == ("blood", False)
    assert [a["data"] for a in telegram.answered_callbacks] == [data]
    assert bot.received == []


async def test_a_photo_sends_its_largest_size_then_a_hint_to_send_scans_as_files(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    receipt, hint = await chat.answer(lambda: telegram.send_photo(CHAT, photo), count=2)
    assert [posted["data"] for posted in reception[0].posted()] == [photo]
    assert receipt["text"] == chat.seen("records_received_guess", label=chat.label("reports"))
    assert hint["text"] == chat.seen("records_photo_hint")


async def test_a_file_over_20_mb_gets_the_upload_link_with_previews_disabled(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    big = b"%PDF-1.4\n" + b"0" * (20 * MB)
    [offer] = await chat.answer(
        lambda: telegram.send_document(CHAT, big, "scans.pdf", "application/pdf")
    )
    [token] = reception[0].links
    link = f"{PUBLIC_URL}/records/{token}"
    assert offer["text"] == chat.seen("records_upload_link", link=link)
    assert offer["link_preview_disabled"] is True
    assert offer["links"] == [link]
    assert telegram.link_visits == []
    assert reception[0].posted() == [] and telegram.downloads == []
    assert telegram.calls("getFile") == []  # Telegram said its size: no need to ask


async def test_a_file_telegram_calls_too_big_gets_the_upload_link(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    telegram.fail_next("getFile", error_code=400, description="Bad Request: file is too big")
    [offer] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf_document(), "x.pdf", "application/pdf")
    )
    [token] = reception[0].links
    assert offer["text"] == chat.seen("records_upload_link", link=f"{PUBLIC_URL}/records/{token}")
    assert offer["link_preview_disabled"] is True
    assert reception[0].posted() == []


@pytest.mark.parametrize(
    ("refusal", "key"),
    [
        ((415, "unsupported_type"), "records_unsupported_type"),
        ((422, "unsafe_archive"), "records_unsafe_archive"),
        ((422, "damaged_file"), "records_damaged_file"),
    ],
)
async def test_a_file_reception_refuses_is_explained(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
    refusal: tuple[int, str],
    key: str,
) -> None:
    reception[0].refusal = refusal
    [answer] = await chat.answer(
        lambda: telegram.send_document(CHAT, b"MZ\x90\x00", "tool.exe", "application/x-msdownload")
    )
    assert answer["text"] == chat.seen(key)
    assert telegram.buttons(answer) == []


async def test_without_an_open_request_the_patient_learns_when_files_can_be_sent(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    reception[0].open_requests.clear()
    [answer] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf_document(), "a.pdf", "application/pdf")
    )
    assert answer["text"] == chat.seen("records_no_request")
    [too_big] = await chat.answer(
        lambda: telegram.send_document(CHAT, b"0" * (21 * MB), "b.zip", "application/zip")
    )
    assert too_big["text"] == chat.seen("records_no_request")
    assert reception[0].links == []


async def test_a_file_over_reception_s_limit_gets_the_upload_link(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    reception[0].refusal = (413, "request_too_large")
    [offer] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf_document(), "c.pdf", "application/pdf")
    )
    [token] = reception[0].links
    assert offer["text"] == chat.seen("records_upload_link", link=f"{PUBLIC_URL}/records/{token}")
    assert offer["link_preview_disabled"] is True


async def test_an_infected_file_gets_a_calm_answer_and_no_label_buttons(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    reception[0].scan = "infected"
    eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    [answer] = await chat.answer(
        lambda: telegram.send_document(CHAT, eicar, "eicar.com", "application/octet-stream")
    )
    assert answer["text"] == chat.seen("records_set_aside")
    assert "virus" not in answer["text"].lower()
    assert telegram.buttons(answer) == []


async def test_while_reception_is_down_the_patient_is_asked_to_send_it_later(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
) -> None:
    await reception[1].close()
    [answer] = await chat.answer(
        lambda: telegram.send_document(CHAT, pdf_document(), "d.pdf", "application/pdf")
    )
    assert answer["text"] == chat.seen("records_not_received")


async def test_the_answers_speak_the_language_reception_knows(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    content: ContentStore,
) -> None:
    reception[0].language = "fr"
    french = Chat(telegram, content, language="fr")
    [receipt] = await french.answer(
        lambda: telegram.send_document(
            CHAT, pdf_document(), "compte-rendu.pdf", "application/pdf", language_code="en"
        )
    )
    assert receipt["text"] == french.seen("records_received_guess", label=french.label("reports"))
    assert telegram.buttons(receipt)[0][0] == french.seen("records_label_confirm")


async def test_nothing_reaches_reception_from_a_group_chat(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    content: ContentStore,
) -> None:
    group = Chat(telegram, content, chat_id=-53_002)
    reception[0].open_requests.add(str(group.chat_id))
    telegram.send_document(
        group.chat_id, pdf_document(), "e.pdf", "application/pdf", chat_type="group"
    )
    telegram.send_photo(group.chat_id, b"\xff\xd8\xff", chat_type="group")
    # The group's next update is handled after those (one lane per chat): then all are done.
    [notice] = await group.answer(
        lambda: telegram.send_text(group.chat_id, "/start", chat_type="group")
    )
    assert notice["text"] == group.seen("group_chat")
    assert reception[0].calls == [] and telegram.downloads == []


GIF = {"file_id": "g1", "file_unique_id": "ug1", "width": 1, "height": 1, "duration": 1}
OTHER_MEDIA = {
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}},
    "animation": {"animation": GIF, "document": {"file_id": "g1", "file_unique_id": "ug1"}},
}


@pytest.mark.parametrize("kind", sorted(OTHER_MEDIA))
async def test_voice_and_gifs_still_get_the_polite_answer(
    bot: FakeRasa,
    telegram: TelegramEmulator,
    reception: tuple[FakeReception, TestServer],
    chat: Chat,
    kind: str,
) -> None:
    [answer] = await chat.answer(
        lambda: telegram.send_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": CHAT, "type": "private"},
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Test"},
                    **OTHER_MEDIA[kind],
                }
            }
        )
    )
    assert answer["text"] == chat.seen("unsupported_media")
    assert reception[0].calls == []


def test_label_payloads_fit_telegram_and_never_look_like_rasa_s() -> None:
    choice = LabelChoice(str(uuid.uuid4()), "pathology")
    assert LabelChoice.parse(choice.payload) == choice
    assert len(choice.payload.encode()) + 9 <= 64  # with its signature
    assert not choice.payload.startswith("/")
    assert LabelChoice.parse('/inform{"label":"blood"}') is None
    assert LabelChoice.parse("label:some-id:diagnosis") is None

"""The reception client: each answer of the upload-link API becomes a value or a typed error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from harness.stack import free_port
from uploads.reception_client import (
    LinkGone,
    LinkUnknown,
    Received,
    ReceptionClient,
    ReceptionUnavailable,
    Refused,
)

from .fake_reception import API_TOKEN, FakeReception
from .test_tus import TOKEN


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP session, as the service keeps."""
    async with aiohttp.ClientSession() as opened:
        yield opened


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    """A file's bytes as the service streams them."""
    for part in parts:
        yield part


def client_of(url: str, session: aiohttp.ClientSession, token: str = API_TOKEN) -> ReceptionClient:
    """A client of the reception at `url`."""
    return ReceptionClient(url, token, session, timeout_seconds=5)


async def test_a_live_link_is_described(
    reception: tuple[FakeReception, str], session: aiohttp.ClientSession
) -> None:
    fake, url = reception
    fake.add_link(TOKEN, language="nl").attachments.append(
        {"size": 10},
    )
    link = await client_of(url, session).link(TOKEN)
    assert (link.reference, link.language, link.bytes_received) == ("SO-2026-00001", "nl", 10)


async def test_unknown_and_ended_links_raise_their_own_errors(
    reception: tuple[FakeReception, str], session: aiohttp.ClientSession
) -> None:
    fake, url = reception
    fake.add_link("expired-link-token-0123456789", state="expired")
    client = client_of(url, session)
    with pytest.raises(LinkUnknown):
        await client.link(TOKEN)
    with pytest.raises(LinkGone) as gone:
        await client.link("expired-link-token-0123456789")
    assert gone.value.code == "link_expired"


async def test_a_reception_out_of_reach_or_refusing_the_token_is_unavailable(
    reception: tuple[FakeReception, str], session: aiohttp.ClientSession
) -> None:
    fake, url = reception
    fake.add_link(TOKEN)
    with pytest.raises(ReceptionUnavailable):
        await client_of(f"http://127.0.0.1:{free_port()}", session).link(TOKEN)
    with pytest.raises(ReceptionUnavailable) as refused:
        await client_of(url, session, token="wrong").link(TOKEN)
    assert TOKEN not in str(refused.value)


async def test_a_file_is_streamed_and_reception_says_what_it_kept(
    reception: tuple[FakeReception, str], session: aiohttp.ClientSession
) -> None:
    fake, url = reception
    fake.add_link(TOKEN)
    answer = await client_of(url, session).attach(TOKEN, chunks(b"%PDF-1.4 ", b"kept"), 13, "blood")
    assert isinstance(answer, Received)
    assert (answer.attachment["label"], answer.attachment["size"]) == ("blood", 13)
    assert fake.files[TOKEN] == [b"%PDF-1.4 kept"]


async def test_a_file_reception_refuses_or_cannot_take_now(
    reception: tuple[FakeReception, str], session: aiohttp.ClientSession
) -> None:
    fake, url = reception
    fake.add_link(TOKEN)
    client = client_of(url, session)
    assert await client.attach(TOKEN, chunks(b"MZ\x90\x00"), 4, None) == Refused(
        415, "unsupported_type"
    )
    fake.refusing_files = True
    with pytest.raises(ReceptionUnavailable):
        await client.attach(TOKEN, chunks(b"MZ\x90\x00"), 4, None)

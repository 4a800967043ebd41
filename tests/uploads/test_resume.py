"""A resumable upload survives the upload process being killed: it resumes from the kept offset.

The service runs as a real process (`python -m uploads`), against the fake reception, and the
client is tuspy, a tus client written by others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from tusclient import client as tus

from harness.stack import free_port
from tests.waiting import until

from .fake_reception import FakeReception
from .process import UploadsProcess
from .test_tus import TOKEN, TUS

CHUNK = 256 * 1024


@pytest.fixture
async def service(
    reception: tuple[FakeReception, str], tmp_path: Path
) -> AsyncIterator[UploadsProcess]:
    """The upload service as a process of its own."""
    running = UploadsProcess(free_port(), tmp_path / "uploads", reception[1], tmp_path / "log")
    await running.start()
    yield running
    running.stop()


@pytest.fixture
def record() -> Iterator[bytes]:
    """A file's bytes: 1.25 MiB that differ from one position to the next."""
    yield bytes((i * 7 + i // 251) % 256 for i in range(5 * CHUNK))


async def test_an_upload_resumes_after_the_process_is_killed(
    service: UploadsProcess, reception: tuple[FakeReception, str], record: bytes, tmp_path: Path
) -> None:
    fake, _ = reception
    fake.add_link(TOKEN)
    source = tmp_path / "scan.pdf"
    source.write_bytes(record)
    endpoint = f"{service.url}/records/{TOKEN}/files/"

    def first_two_chunks() -> str:
        with source.open("rb") as stream:
            uploader = tus.TusClient(endpoint).uploader(
                file_stream=stream,
                chunk_size=CHUNK,
                metadata={"label": "imaging", "filename": "scan.pdf"},
            )
            uploader.upload_chunk()
            uploader.upload_chunk()
        assert uploader.url is not None
        return uploader.url

    url = await asyncio.to_thread(first_two_chunks)
    part = next(service.folder.rglob("*.part"))
    assert part.stat().st_size == 2 * CHUNK
    assert "scan" not in part.name

    # A third part is under way, half sent, when the process dies.
    sent_half = asyncio.Event()

    async def half_then_wait() -> AsyncIterator[bytes]:
        yield record[2 * CHUNK : 2 * CHUNK + CHUNK // 2]
        sent_half.set()
        await asyncio.Event().wait()  # the rest never comes

    headers = {
        **TUS,
        "Upload-Offset": str(2 * CHUNK),
        "Content-Type": "application/offset+octet-stream",
    }

    async def interrupted_patch() -> None:
        async with aiohttp.ClientSession() as session:
            await session.patch(url, data=half_then_wait(), headers=headers)

    patching = asyncio.create_task(interrupted_patch())
    await sent_half.wait()
    await until(lambda: part.stat().st_size > 2 * CHUNK)
    service.kill()
    with pytest.raises(aiohttp.ClientError):
        await patching
    kept = part.stat().st_size

    await service.start()
    async with aiohttp.ClientSession() as session, session.head(url, headers=TUS) as head:
        assert head.status == 200
        assert int(head.headers["Upload-Offset"]) == kept

    def the_rest() -> int:
        with source.open("rb") as stream:
            uploader = tus.TusClient(endpoint).uploader(
                file_stream=stream, url=url, chunk_size=CHUNK
            )
            resumed_at = uploader.offset
            uploader.upload()
        return resumed_at

    assert await asyncio.to_thread(the_rest) == kept
    await until(lambda: fake.files.get(TOKEN))
    assert fake.files[TOKEN] == [record]
    assert fake.links[TOKEN].attachments[0]["label"] == "imaging"
    await until(lambda: not part.exists())  # reception has it: the service keeps no copy

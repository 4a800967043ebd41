"""Records: how fast reception takes a file on loopback, and how soon the viewer draws a slice.

In one run, on one machine:
- a bare aiohttp endpoint that only reads the body: what loopback HTTP costs here;
- reception's POST /api/v1/attachments, without a scanner (type check, encryption, database);
- the same with a real clamd (scripts/run-clamd, on the offline EICAR database), if installed;
- the viewer's time to first slice: decrypting CT_small and drawing it as a PNG, and the same
  for the compressed MR files (JPEG 2000, JPEG-LS, RLE).

Speeds are printed as MB/s and as ratios to the bare endpoint of the same run, since shared
machines make absolute figures noisy. Run with `python -m bench.records` (`--help` for options).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydicom.data import get_testdata_file

from reception.app import create_app
from reception.appkeys import RECORDS_KEY, SESSIONMAKER_KEY
from reception.dicom_render import Drawing, render
from reception.models import RecordKey
from reception.settings import Settings
from reception.vault import Vault

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-reception-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SLICES = (
    "CT_small.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_RLE.dcm",
)
TICKET = {
    "kind": "request",
    "cancer_type": "lung",
    "department": "thoracic_oncology",
    "stage": "in_treatment",
    "residence": "belgium",
    "records": {"imaging": "not_yet"},
    "language": "en",
    "contact": {"name": "Bench Patient", "phone": "+32 470 00 00 00"},
    "channel": "telegram",
    "channel_address": "1",
    "transcript": [],
}


def a_pdf(size: int) -> bytes:
    """A file of `size` bytes that reception takes as a PDF (the header is what is sniffed)."""
    head = b"%PDF-1.4\n"
    return head + os.urandom(size - len(head))


@contextlib.contextmanager
def clamd(directory: Path) -> Iterator[Path | None]:
    """Run scripts/run-clamd in `directory` until the block ends; None if ClamAV is missing."""
    process = subprocess.Popen(
        [ROOT / "scripts" / "run-clamd", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    socket_path = directory / "clamd.sock"
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"ready" in line:
                yield socket_path
                return
        yield None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@contextlib.asynccontextmanager
async def bare_sink() -> AsyncIterator[str]:
    """An endpoint that reads a body and throws it away: the cost of loopback HTTP alone."""

    async def sink(request: web.Request) -> web.Response:
        """Read the whole body in chunks."""
        async for _ in request.content.iter_chunked(256 * 1024):
            pass
        return web.json_response({}, status=201)

    app = web.Application()
    app.router.add_post("/sink", sink)
    async with TestServer(app) as server:
        yield str(server.make_url("/sink"))


@contextlib.asynccontextmanager
async def reception(settings: Settings) -> AsyncIterator[tuple[str, web.Application]]:
    """Reception, built by its own factory, on a port of its own, with one open request."""
    app = create_app(settings)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        base = str(server.make_url("")).rstrip("/")
        async with session.post(f"{base}/api/v1/tickets", json=TICKET, headers=HEADERS) as made:
            assert made.status == 201, await made.text()
        yield f"{base}/api/v1/attachments?channel=telegram&channel_address=1", app


async def megabytes_per_second(url: str, data: bytes, rounds: int) -> float:
    """Send the same file `rounds` times; return the median speed in MB/s."""
    speeds = []
    async with aiohttp.ClientSession() as session:
        for _ in range(rounds):
            started = time.perf_counter()
            async with session.post(
                url, data=data, headers={**HEADERS, "Content-Type": "application/octet-stream"}
            ) as answer:
                assert answer.status == 201, await answer.text()
            speeds.append(len(data) / (time.perf_counter() - started) / 1e6)
    return statistics.median(speeds)


async def first_slice_seconds(app: web.Application, rounds: int) -> dict[str, float]:
    """Store each DICOM file, then time decrypting it and drawing its first slice."""
    records = app[RECORDS_KEY]
    async with app[SESSIONMAKER_KEY]() as session:
        key = await session.get(RecordKey, 1)
    assert key is not None
    times = {}
    for name in SLICES:
        await asyncio.to_thread(_store, records.vault, name, key.wrapped)
        took = []
        for _ in range(rounds):
            started = time.perf_counter()
            render(records.vault.open(1, name, key.wrapped), Drawing())
            took.append(time.perf_counter() - started)
        times[name] = statistics.median(took)
    return times


def _store(vault: Vault, name: str, wrapped: bytes) -> None:
    """Keep one of pydicom's test files in the vault, as reception keeps a patient's file."""
    with Path(str(get_testdata_file(name))).open("rb") as source:
        vault.store(1, name, wrapped, source)


async def main(size_mib: int, rounds: int) -> None:
    """Measure and print."""
    data = a_pdf(size_mib * 1024**2)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base = Settings(
            api_token=TOKEN,
            session_secret="bench-session-secret-0123456789",
            database_url=f"sqlite+aiosqlite:///{root / 'reception.db'}",
            files_dir=root / "records",
        )
        async with bare_sink() as url:
            bare = await megabytes_per_second(url, data, rounds)
        async with reception(base) as (url, app):
            unscanned = await megabytes_per_second(url, data, rounds)
            slices = await first_slice_seconds(app, rounds)
        scanned = None
        with clamd(root / "clamd") as socket_path:
            if socket_path is not None:
                settings = dataclasses.replace(
                    base,
                    clamd_socket=str(socket_path),
                    database_url=f"sqlite+aiosqlite:///{root / 'scanned.db'}",
                )
                async with reception(settings) as (url, _):
                    scanned = await megabytes_per_second(url, data, rounds)
    print(f"upload of a {size_mib} MiB file on loopback, median of {rounds}:")
    print(f"  bare HTTP endpoint          {bare:8.1f} MB/s   1.00x")
    print(f"  reception, no scanner       {unscanned:8.1f} MB/s   {unscanned / bare:.2f}x")
    if scanned is None:
        print("  reception, clamd            (ClamAV is not installed: scripts/ensure-clamav)")
    else:
        print(f"  reception, clamd            {scanned:8.1f} MB/s   {scanned / bare:.2f}x")
    print(f"viewer, time to first slice (decrypt + decode + PNG), median of {rounds}:")
    for name, seconds in slices.items():
        print(f"  {name:32} {seconds * 1000:7.1f} ms")


def parse() -> argparse.Namespace:
    """Read the options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64, help="size of the file sent")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per figure")
    return parser.parse_args()


if __name__ == "__main__":
    options = parse()
    asyncio.run(main(options.size_mib, options.rounds))

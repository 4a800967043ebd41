"""The virus scanner against a real clamd, on the offline EICAR database."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from reception.settings import Settings, SettingsError
from reception.virus_scan import (
    CLEAN,
    ClamdAddress,
    Outcome,
    Problem,
    ScanVerdict,
    VirusScanner,
)
from tests.clamav import SIGNATURE, Clamd, eicar, running_clamd
from tests.reception.conftest import API_TOKEN, SESSION_SECRET

MIB = 1 << 20
QUICKLY = 2.0  # seconds: how long a scan may take to find that clamd is not there


def zipped(**members: bytes) -> bytes:
    """Return a ZIP archive, made now, of the given members."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped_file:
        for name, content in members.items():
            zipped_file.writestr(f"records/{name}", content)
    return archive.getvalue()


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    """Yield the parts of a file one by one, as an upload brings them."""
    for part in parts:
        await asyncio.sleep(0)
        yield part


def free_tcp_port() -> int:
    """Return a TCP port on loopback that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def scanner(clamd: Clamd) -> VirusScanner:
    """Return a scanner of the session's clamd."""
    return VirusScanner(clamd.socket, timeout_seconds=30)


@pytest.fixture(scope="module")
def small_clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """Yield a clamd that takes files of 1 MiB at most, on TCP as well as on its socket."""
    directory = tmp_path_factory.mktemp("small-clamd")
    with running_clamd(directory, max_file_size="1M", tcp_port=free_tcp_port()) as daemon:
        yield daemon


async def test_clean_bytes_are_clean(scanner: VirusScanner) -> None:
    assert await scanner.scan(b"%PDF-1.7\nA report of the biopsy of 3 March.\n") == CLEAN


async def test_eicar_is_infected_with_its_signature(scanner: VirusScanner) -> None:
    verdict = await scanner.scan(eicar())
    assert verdict == ScanVerdict(Outcome.INFECTED, signature=SIGNATURE)


async def test_eicar_inside_a_file_is_found(scanner: VirusScanner) -> None:
    verdict = await scanner.scan(b"a letter, then " + eicar() + b" and its end\n")
    assert verdict == ScanVerdict.infected(SIGNATURE)


async def test_eicar_inside_a_zip_is_found(scanner: VirusScanner) -> None:
    archive = zipped(**{"report.txt": b"clean words\n", "scan.com": eicar()})
    assert eicar() not in archive  # compressed: only clamd's unpacking can find it
    assert await scanner.scan(archive) == ScanVerdict.infected(SIGNATURE)


async def test_a_clean_zip_is_clean(scanner: VirusScanner) -> None:
    assert await scanner.scan(zipped(**{"report.txt": b"clean words\n" * 1000})) == CLEAN


async def test_a_file_arriving_in_pieces_is_scanned_whole(scanner: VirusScanner) -> None:
    half = len(eicar()) // 2
    verdict = await scanner.scan(pieces(b"", eicar()[:half], b"", eicar()[half:], b""))
    assert verdict == ScanVerdict.infected(SIGNATURE)


async def test_a_big_clean_stream_is_clean(scanner: VirusScanner) -> None:
    block = os.urandom(MIB)
    assert await scanner.scan(pieces(*[block] * 30)) == CLEAN


async def test_a_big_file_with_eicar_at_its_end_is_infected(scanner: VirusScanner) -> None:
    data = os.urandom(30 * MIB) + eicar()
    assert await scanner.scan(data) == ScanVerdict.infected(SIGNATURE)


async def test_an_empty_file_is_clean(scanner: VirusScanner) -> None:
    assert await scanner.scan(b"") == CLEAN


async def test_scans_run_side_by_side(scanner: VirusScanner) -> None:
    verdicts = await asyncio.gather(
        *(scanner.scan(eicar() if n % 2 else b"clean") for n in range(8))
    )
    assert [verdict.outcome for verdict in verdicts] == [Outcome.CLEAN, Outcome.INFECTED] * 4


async def test_ping_answers_when_clamd_runs(scanner: VirusScanner) -> None:
    assert await scanner.ping() is True


async def test_a_missing_socket_is_unavailable_quickly(tmp_path: Path) -> None:
    scanner = VirusScanner(str(tmp_path / "no-clamd.sock"), timeout_seconds=30)
    async with asyncio.timeout(QUICKLY):
        assert await scanner.scan(eicar()) == ScanVerdict.unavailable(Problem.UNREACHABLE)
        assert await scanner.ping() is False


async def test_a_socket_nobody_listens_on_is_unavailable_quickly(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # bound, never listening: connections are refused
        scanner = VirusScanner(str(path), timeout_seconds=30)
        async with asyncio.timeout(QUICKLY):
            assert await scanner.scan(b"clean") == ScanVerdict.unavailable(Problem.UNREACHABLE)


async def test_a_closed_tcp_port_is_unavailable_quickly() -> None:
    scanner = VirusScanner(f"tcp://127.0.0.1:{free_tcp_port()}", timeout_seconds=30)
    async with asyncio.timeout(QUICKLY):
        assert await scanner.scan(b"clean") == ScanVerdict.unavailable(Problem.UNREACHABLE)
        assert await scanner.ping() is False


async def test_a_stopped_clamd_is_unavailable(tmp_path: Path) -> None:
    with running_clamd(tmp_path / "clamd") as clamd:
        scanner = VirusScanner(clamd.socket, timeout_seconds=30)
        assert await scanner.scan(b"clean") == CLEAN
    async with asyncio.timeout(QUICKLY):
        assert await scanner.scan(eicar()) == ScanVerdict.unavailable(Problem.UNREACHABLE)
        assert await scanner.ping() is False


async def test_a_silent_clamd_times_out(tmp_path: Path) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    path = tmp_path / "silent.sock"
    server = await asyncio.start_unix_server(accept_and_say_nothing, path=str(path))
    try:
        scanner = VirusScanner(str(path), timeout_seconds=0.3)
        async with asyncio.timeout(QUICKLY):
            assert await scanner.scan(b"clean") == ScanVerdict.unavailable(Problem.TIMED_OUT)
            assert await scanner.ping() is False
        assert accepted
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_clamd_that_hangs_up_is_unavailable(tmp_path: Path) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(b"zINSTREAM\0"))
        writer.close()

    path = tmp_path / "rude.sock"
    server = await asyncio.start_unix_server(hang_up, path=str(path))
    try:
        scanner = VirusScanner(str(path), timeout_seconds=5)
        async with asyncio.timeout(QUICKLY):
            verdict = await scanner.scan(b"clean")
        assert verdict == ScanVerdict.unavailable(Problem.DISCONNECTED)
    finally:
        server.close()
        await server.wait_closed()


async def test_an_answer_that_is_no_verdict_is_unavailable(tmp_path: Path) -> None:
    async def answer_nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(len(b"zINSTREAM\0") + 4 + len(b"clean") + 4)
        writer.write(b"stream: OK but not quite\0")
        await writer.drain()
        writer.close()

    path = tmp_path / "odd.sock"
    server = await asyncio.start_unix_server(answer_nonsense, path=str(path))
    try:
        scanner = VirusScanner(str(path), timeout_seconds=5)
        assert await scanner.scan(b"clean") == ScanVerdict.unavailable(Problem.ERROR)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_stream_over_clamds_limit_is_never_clean(small_clamd: Clamd) -> None:
    scanner = VirusScanner(small_clamd.socket, timeout_seconds=30)
    verdict = await scanner.scan(pieces(*[os.urandom(256 * 1024)] * 8))
    assert verdict == ScanVerdict.unavailable(Problem.LIMITS_EXCEEDED)
    assert await scanner.scan(os.urandom(2 * MIB)) == ScanVerdict.unavailable(
        Problem.LIMITS_EXCEEDED
    )
    assert await scanner.scan(b"clean") == CLEAN  # clamd itself is fine


async def test_eicar_deep_inside_a_zipped_file_is_found(scanner: VirusScanner) -> None:
    archive = zipped(**{"series.dcm": bytes(30 * MIB) + eicar()})
    assert len(archive) < MIB
    assert await scanner.scan(archive) == ScanVerdict.infected(SIGNATURE)


async def test_clamd_reads_a_zipped_file_only_up_to_its_file_size_limit(
    small_clamd: Clamd,
) -> None:
    # clamd cuts a file it unpacks at MaxFileSize, and says nothing (even with AlertExceedsMax):
    # what lies beyond goes unscanned. Reception's own limits on ZIPs must stay below clamd's.
    scanner = VirusScanner(small_clamd.socket, timeout_seconds=30)
    beyond = zipped(**{"series.dcm": bytes(3 * MIB) + eicar()})
    within = zipped(**{"series.dcm": bytes(MIB // 2) + eicar()})
    assert len(beyond) < MIB
    assert await scanner.scan(beyond) == CLEAN
    assert await scanner.scan(within) == ScanVerdict.infected(SIGNATURE)


async def test_clamd_on_tcp(small_clamd: Clamd) -> None:
    assert small_clamd.address.startswith("tcp://")
    scanner = VirusScanner(small_clamd.address, timeout_seconds=30)
    assert await scanner.ping() is True
    assert await scanner.scan(eicar()) == ScanVerdict.infected(SIGNATURE)
    assert await scanner.scan(b"clean") == CLEAN


async def test_an_error_of_the_files_own_iterator_passes_through(scanner: VirusScanner) -> None:
    async def broken_upload() -> AsyncIterator[bytes]:
        yield b"the first part"
        raise OSError("the patient's connection dropped")

    with pytest.raises(OSError, match="connection dropped"):
        await scanner.scan(broken_upload())
    assert await scanner.scan(b"clean") == CLEAN


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("/run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
        ("var/clamd/clamd.sock", ClamdAddress(path="var/clamd/clamd.sock")),
        ("tcp://clamav:3310", ClamdAddress(host="clamav", port=3310)),
        ("tcp://[::1]:3310", ClamdAddress(host="::1", port=3310)),
    ],
)
def test_addresses(text: str, address: ClamdAddress) -> None:
    assert ClamdAddress.parse(text) == address
    assert str(address) == text


@pytest.mark.parametrize(
    "text", ["", "tcp://clamav", "tcp://:3310", "tcp://clamav:99999", "http://clamav:3310"]
)
def test_addresses_that_cannot_work_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ClamdAddress.parse(text)


def test_a_verdict_says_only_what_belongs_to_it() -> None:
    with pytest.raises(ValueError):
        ScanVerdict(Outcome.CLEAN, signature=SIGNATURE)
    with pytest.raises(ValueError):
        ScanVerdict(Outcome.INFECTED)
    with pytest.raises(ValueError):
        ScanVerdict(Outcome.INFECTED, signature=SIGNATURE, problem=Problem.ERROR)


def test_a_time_out_that_cannot_work_is_refused_even_when_built_directly() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(api_token=API_TOKEN, session_secret=SESSION_SECRET, clamd_timeout_seconds=0)
    assert refused.value.code == "clamd_timeout_invalid"
    with pytest.raises(SettingsError) as refused:
        Settings(api_token=API_TOKEN, session_secret=SESSION_SECRET, clamd_socket="tcp://x")
    assert refused.value.code == "clamd_socket_invalid"


def test_scanning_is_off_unless_a_socket_is_set() -> None:
    env = {"RECEPTION_API_TOKEN": API_TOKEN, "RECEPTION_SESSION_SECRET": SESSION_SECRET}
    settings = Settings.from_env(env)
    assert (settings.clamd_socket, settings.clamd_timeout_seconds) == (None, 60.0)
    settings = Settings.from_env(
        env
        | {"RECEPTION_CLAMD_SOCKET": " tcp://clamav:3310 ", "RECEPTION_CLAMD_TIMEOUT_SECONDS": "5"}
    )
    assert (settings.clamd_socket, settings.clamd_timeout_seconds) == ("tcp://clamav:3310", 5.0)


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("RECEPTION_CLAMD_SOCKET", "tcp://clamav", "clamd_socket_invalid"),
        ("RECEPTION_CLAMD_TIMEOUT_SECONDS", "0", "variable_not_seconds"),
    ],
)
def test_clamd_settings_that_cannot_work_are_refused(name: str, value: str, code: str) -> None:
    env = {"RECEPTION_API_TOKEN": API_TOKEN, "RECEPTION_SESSION_SECRET": SESSION_SECRET}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env | {name: value})
    assert refused.value.code == code
    assert name in str(refused.value)

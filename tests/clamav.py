"""A real clamd for tests, started by scripts/run-clamd on the offline EICAR database."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.stack import clamd_answers

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"  # what clamd reports for EICAR
START_SECONDS = 60.0
STOP_SECONDS = 10.0


@functools.cache
def eicar() -> bytes:
    """Return the EICAR test string, which every virus scanner detects, put together now."""
    made = subprocess.run(
        [SCRIPTS / "clamav-test-db", "--eicar"], capture_output=True, check=True
    ).stdout
    assert len(made) == 68, made
    return made


@dataclass
class Clamd:
    """A clamd of this test run: its process (scripts/run-clamd) and where it listens."""

    directory: Path
    process: subprocess.Popen[bytes]
    tcp_port: int | None = None

    @property
    def address(self) -> str:
        """Return where the scanner reaches it, as RECEPTION_CLAMD_SOCKET takes it: TCP if on."""
        return f"tcp://127.0.0.1:{self.tcp_port}" if self.tcp_port else self.socket

    @property
    def socket(self) -> str:
        """Return its unix socket's path, as RECEPTION_CLAMD_SOCKET takes it."""
        return str(self.directory / "clamd.sock")

    def log(self) -> str:
        """Return what clamd and its launcher wrote so far."""
        return (self.directory / "run-clamd.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop clamd and wait until it has exited."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_SECONDS)


@contextmanager
def running_clamd(
    directory: Path, *, max_file_size: str = "", tcp_port: int | None = None
) -> Iterator[Clamd]:
    """Run clamd on a socket in a directory until the block ends; fail loudly if it cannot start.

    It takes files up to max_file_size (e.g. "1M"; scripts/run-clamd's 2000M unless given),
    and listens on loopback at tcp_port too, if given.
    """
    path = f"{os.environ.get('PATH', '')}:/usr/sbin"
    if shutil.which("clamd", path=path) is None:
        pytest.fail("ClamAV is not installed: run scripts/ensure-clamav (make test does)")
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "run-clamd.log").open("wb") as log:
        process = subprocess.Popen(
            [SCRIPTS / "run-clamd", directory],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "CLAMD_MAX_FILE_SIZE": max_file_size,
                "CLAMD_TCP_PORT": str(tcp_port or ""),
            },
            start_new_session=True,  # its own process group: stopping it stops clamd too
        )
    clamd = Clamd(directory, process, tcp_port)
    try:
        _wait_until_it_answers(clamd)
        yield clamd
    finally:
        clamd.stop()


def _wait_until_it_answers(clamd: Clamd) -> None:
    """Poll clamd's socket until it answers PING, or fail with its log."""
    deadline = time.monotonic() + START_SECONDS
    while not clamd_answers(str(clamd.socket)):
        if clamd.process.poll() is not None:
            pytest.fail(f"clamd did not start (exit {clamd.process.returncode}):\n{clamd.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"clamd did not answer within {START_SECONDS} s:\n{clamd.log()}")
        time.sleep(0.05)

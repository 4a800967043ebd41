"""The virus scanner: the only code in reception/ that speaks to ClamAV's daemon, clamd.

A file goes to clamd with its INSTREAM command, over a unix socket or TCP: `zINSTREAM` and a NUL,
then chunks of at most 1 MiB, each after its length in four big-endian bytes, then a length of 0.
clamd answers `stream: OK`, `stream: <signature> FOUND` or `<reason> ERROR`, ended by a NUL.

A verdict is clean, infected (with the signature clamd found, for staff and logs, never for
patients), or unavailable: clamd could not be reached, went away, stayed silent longer than the
time-out, or its limits (StreamMaxLength, MaxFileSize, MaxScanSize) are below the file. The
caller keeps such a file pending and scans it again later. Scanning never raises for clamd.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import struct
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0  # how long clamd may stay silent: to connect, take data or answer
CHUNK_BYTES = 1 << 20
MAX_ANSWER_BYTES = 64 * 1024
TCP_SCHEME = "tcp"
_END = b"\0"
_OK = b"stream: OK"
_FOUND_PREFIX = b"stream: "
_FOUND_SUFFIX = b" FOUND"
_STREAM_TOO_LONG = b"INSTREAM size limit exceeded. ERROR"
# What clamd reports, with AlertExceedsMax, for a file it could not scan whole: not a virus.
_LIMITS_EXCEEDED = b"Heuristics.Limits.Exceeded."
_CLAMD_FAILURES = (OSError, TimeoutError, EOFError)

T = TypeVar("T")


class Outcome(StrEnum):
    """What a scan concluded."""

    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"  # no verdict: keep the file pending and scan it again later


class Problem(StrEnum):
    """Why a scan has no verdict."""

    UNREACHABLE = "unreachable"  # nothing answers at the address
    DISCONNECTED = "disconnected"  # clamd closed the connection before it answered
    TIMED_OUT = "timed_out"  # clamd stayed silent longer than the time-out
    LIMITS_EXCEEDED = "limits_exceeded"  # the file is over clamd's limits; raise them to scan it
    ERROR = "error"  # clamd answered an error, or something that is not an answer


@dataclass(frozen=True)
class ScanVerdict:
    """A scan's outcome, with the signature found (infected) or the problem (unavailable)."""

    outcome: Outcome
    signature: str | None = None  # clamd's name for what it found; never shown to patients
    problem: Problem | None = None

    def __post_init__(self) -> None:
        """Refuse a signature without an infection, or a problem without unavailability."""
        if (self.signature is not None) != (self.outcome is Outcome.INFECTED):
            raise ValueError(self)
        if (self.problem is not None) != (self.outcome is Outcome.UNAVAILABLE):
            raise ValueError(self)

    @classmethod
    def infected(cls, signature: str) -> ScanVerdict:
        """Return the verdict on a file in which clamd found a signature."""
        return cls(Outcome.INFECTED, signature=signature)

    @classmethod
    def unavailable(cls, problem: Problem) -> ScanVerdict:
        """Return the verdict of a scan that could not conclude."""
        return cls(Outcome.UNAVAILABLE, problem=problem)


CLEAN = ScanVerdict(Outcome.CLEAN)


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a unix socket's path, or a TCP host and port."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> ClamdAddress:
        """Read a socket's path, or `tcp://host:port`; raise ValueError for anything else."""
        text = text.strip()
        if "://" not in text:
            if not text or "\0" in text:
                raise ValueError(text)
            return cls(path=text)
        parts = urlsplit(text)
        port = parts.port  # raises ValueError when out of range
        if parts.scheme != TCP_SCHEME or not parts.hostname or port is None:
            raise ValueError(text)
        if parts.path or parts.query or parts.fragment or parts.username:
            raise ValueError(text)
        return cls(host=parts.hostname, port=port)

    async def connect(self) -> socket.socket:
        """Open a connection to clamd: a non-blocking socket, for the event loop's own calls."""
        if self.path is not None:
            return await _connect(socket.AF_UNIX, socket.SOCK_STREAM, 0, self.path)
        loop = asyncio.get_running_loop()
        error: OSError = ConnectionRefusedError()
        for family, kind, protocol, _, address in await loop.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        ):
            try:
                return await _connect(family, kind, protocol, address)
            except OSError as refused:
                error = refused
        raise error

    def __str__(self) -> str:
        """Say the address the way RECEPTION_CLAMD_SOCKET does."""
        if self.path is not None:
            return self.path
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{TCP_SCHEME}://{host}:{self.port}"


class VirusScanner:
    """Scan files with clamd; every clamd failure is a verdict of its own, never an exception."""

    def __init__(
        self,
        address: str | ClamdAddress,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Scan with the clamd at an address (a socket's path or `tcp://host:port`)."""
        if not 0 < timeout_seconds < math.inf:
            raise ValueError(timeout_seconds)
        self.address = address if isinstance(address, ClamdAddress) else ClamdAddress.parse(address)
        self.timeout_seconds = timeout_seconds

    async def scan(self, data: bytes | AsyncIterable[bytes]) -> ScanVerdict:
        """Scan a file, whole or as it arrives, and return clamd's verdict.

        An error raised by the file's own iterator is the caller's, and passes through.
        """
        try:
            connection = await self._within(self.address.connect())
        except _CLAMD_FAILURES as error:
            return self._unavailable(_problem(error, Problem.UNREACHABLE), error)
        with connection:
            # Read while sending: clamd may refuse mid-way, answer, and hang up.
            answer = asyncio.create_task(_answer(connection))
            try:
                if await self._send(connection, data, answer) is Problem.TIMED_OUT:
                    return self._unavailable(Problem.TIMED_OUT)
                return await self._verdict(answer)
            finally:
                await _settle(answer)

    async def ping(self) -> bool:
        """Tell whether clamd answers PING with PONG within the time-out."""
        loop = asyncio.get_running_loop()
        try:
            connection = await self._within(self.address.connect())
        except _CLAMD_FAILURES:
            return False
        with connection:
            try:
                await self._within(loop.sock_sendall(connection, b"zPING" + _END))
                return await self._within(_answer(connection)) == b"PONG" + _END
            except _CLAMD_FAILURES:
                return False

    async def _send(
        self,
        connection: socket.socket,
        data: bytes | AsyncIterable[bytes],
        answer: asyncio.Task[bytes],
    ) -> Problem | None:
        """Stream a file to clamd until its end, or until clamd answers or stops taking it."""
        if stopped := await self._pass(connection, b"zINSTREAM" + _END):
            return stopped
        async for chunk in _chunks(data):
            if answer.done():
                return None  # clamd answered before the end: a refusal, read next
            if stopped := await self._pass(connection, struct.pack("!L", len(chunk)), chunk):
                return stopped
        return await self._pass(connection, struct.pack("!L", 0))

    async def _pass(self, connection: socket.socket, *parts: bytes | memoryview) -> Problem | None:
        """Hand data to clamd; say so if it hung up (its answer may say why) or stopped reading."""
        loop = asyncio.get_running_loop()
        try:
            for part in parts:
                await self._within(loop.sock_sendall(connection, part))
        except TimeoutError:
            return Problem.TIMED_OUT
        except OSError:
            return Problem.DISCONNECTED
        return None

    async def _verdict(self, answer: asyncio.Task[bytes]) -> ScanVerdict:
        """Wait for clamd's answer to INSTREAM and read it."""
        try:
            return _verdict(await self._within(answer))
        except _CLAMD_FAILURES as error:
            return self._unavailable(_problem(error, Problem.DISCONNECTED), error)

    async def _within(self, awaitable: Awaitable[T]) -> T:
        """Await one exchange with clamd, or raise TimeoutError after the time-out."""
        return await asyncio.wait_for(awaitable, self.timeout_seconds)

    def _unavailable(self, problem: Problem, error: BaseException | None = None) -> ScanVerdict:
        """Log why a scan has no verdict, and return that verdict."""
        logger.warning("virus scan at %s unavailable: %s (%r)", self.address, problem, error)
        return ScanVerdict.unavailable(problem)


def _verdict(answer: bytes) -> ScanVerdict:
    """Read clamd's answer to INSTREAM."""
    answer = answer.removesuffix(_END).strip()
    if answer == _OK:
        return CLEAN
    if answer == _STREAM_TOO_LONG:
        return _limits_exceeded(answer)
    if answer.startswith(_FOUND_PREFIX) and answer.endswith(_FOUND_SUFFIX):
        signature = answer.removeprefix(_FOUND_PREFIX).removesuffix(_FOUND_SUFFIX).strip()
        if signature.startswith(_LIMITS_EXCEEDED):
            return _limits_exceeded(answer)
        if signature:
            return ScanVerdict.infected(signature.decode("ascii", "replace"))
    logger.warning("clamd gave an answer that is not a verdict: %r", answer[:200])
    return ScanVerdict.unavailable(Problem.ERROR)


def _limits_exceeded(answer: bytes) -> ScanVerdict:
    """Log that a file is over clamd's limits, and return the verdict that says so."""
    logger.warning("clamd could not scan a whole file within its limits: %r", answer[:200])
    return ScanVerdict.unavailable(Problem.LIMITS_EXCEEDED)


def _problem(error: BaseException, otherwise: Problem) -> Problem:
    """Name a failure to talk to clamd: a time-out, or the given problem."""
    return Problem.TIMED_OUT if isinstance(error, TimeoutError) else otherwise


async def _chunks(data: bytes | AsyncIterable[bytes]) -> AsyncIterator[memoryview]:
    """Yield a file in chunks of 1 to CHUNK_BYTES bytes (an empty chunk would end the stream)."""
    if isinstance(data, bytes | bytearray | memoryview):
        for chunk in _split(memoryview(data)):
            yield chunk
        return
    async for piece in data:
        for chunk in _split(memoryview(piece)):
            yield chunk


def _split(view: memoryview) -> list[memoryview]:
    """Cut a buffer into chunks of at most CHUNK_BYTES bytes, none of them empty."""
    return [view[start : start + CHUNK_BYTES] for start in range(0, len(view), CHUNK_BYTES)]


async def _connect(
    family: int, kind: int, protocol: int, address: str | tuple[Any, ...]
) -> socket.socket:
    """Connect a non-blocking socket to an address, or close it and raise OSError."""
    connection = socket.socket(family, kind, protocol)
    connection.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(connection, address)
    except BaseException:
        connection.close()
        raise
    return connection


async def _settle(answer: asyncio.Task[bytes]) -> None:
    """Stop reading an answer no longer needed, before its socket is closed."""
    answer.cancel()
    await asyncio.wait([answer])
    if not answer.cancelled():
        answer.exception()  # taken: a failure to read is already a verdict


async def _answer(connection: socket.socket) -> bytes:
    """Read clamd's answer: everything up to its NUL, or EOFError if it hangs up before."""
    loop = asyncio.get_running_loop()
    answer = bytearray()
    while not answer.endswith(_END):
        if len(answer) > MAX_ANSWER_BYTES:
            return bytes(answer)  # no answer of clamd's is this long: not a verdict
        piece = await loop.sock_recv(connection, 4096)
        if not piece:
            raise EOFError
        answer += piece
    return bytes(answer)

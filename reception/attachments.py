"""The patient's records in their request: files received, checked, scanned and kept encrypted.

A file reaches reception from the patient-facing side (the bot, or the upload page), either
for a conversation (the bot knows the chat) or through the request's upload link. Its type is
sniffed from its bytes (record_files), it is scanned for viruses, encrypted under the ticket's
key (vault) and listed on the ticket; the records checklist marks its item as received, and
the records clock starts again from it. An infected file is kept in quarantine: listed, never
opened. Nothing about a file's name is ever kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation_id import Channel

from . import queries
from .models import (
    FINAL_STATUSES,
    Attachment,
    RecordKey,
    RecordLabel,
    RecordState,
    ScanResult,
    Ticket,
    TicketAction,
    TicketKind,
    UploadLink,
    utcnow,
)
from .record_files import ArchiveLimits, Inspected, guess_label, inspect
from .vault import CHUNK_BYTES, Vault
from .virus_scan import Outcome, VirusScanner
from .wording import CodedError

logger = logging.getLogger(__name__)

CHECKLIST_LABELS = frozenset(label.value for label in RecordLabel) - {RecordLabel.OTHER.value}
SPOOL_BYTES = 8 * 1024**2  # a file bigger than this waits for its checks on disk, not in memory
LINK_TOKEN_BYTES = 32
SCAN_RESULTS = {
    Outcome.CLEAN: ScanResult.CLEAN,
    Outcome.INFECTED: ScanResult.INFECTED,
    Outcome.UNAVAILABLE: ScanResult.PENDING,
}


class NoOpenRequest(CodedError, LookupError):
    """The conversation has no open request to add files to."""

    code = "no_open_request"


class FileTooLarge(CodedError, ValueError):
    """A file over the limit for one file."""

    code = "file_too_large"


class RequestTooLarge(CodedError, ValueError):
    """A file that would take the request's files over their total limit."""

    code = "request_too_large"


class IncompleteBody(CodedError, ValueError):
    """The body ended before, or went on after, the length it announced."""

    code = "file_incomplete"


class NoSuchAttachment(CodedError, LookupError):
    """No file with this id belongs to the ticket or conversation."""

    code = "no_such_attachment"


class FileQuarantined(CodedError, PermissionError):
    """The file is infected, or not scanned yet: staff cannot open it."""

    code = "file_quarantined"


class UnknownLink(CodedError, LookupError):
    """No upload link has this token."""

    code = "unknown_link"


class LinkExpired(CodedError, LookupError):
    """The upload link's time is over."""

    code = "link_expired"


class LinkRevoked(CodedError, LookupError):
    """The upload link was replaced, or its request was closed or erased."""

    code = "link_revoked"


@dataclass(frozen=True)
class RecordLimits:
    """How much a patient may send: per file, per request, inside a ZIP, and a link's life."""

    file_bytes: int = 500 * 1024**2
    request_bytes: int = 2 * 1024**3
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    link_days: int = 7


class Scanner(Protocol):
    """The virus scanner: it says whether a file is clean, infected, or could not be scanned."""

    async def verdict(self, file: IO[bytes]) -> ScanResult:
        """Scan a file from its start."""


class NoScanner:
    """Scanning is off: every file waits, unopened, until a scanner is configured."""

    async def verdict(self, file: IO[bytes]) -> ScanResult:
        """Leave the file to be scanned later."""
        return ScanResult.PENDING


class ClamavScanner:
    """Scans each file with clamd, reading it from the scratch file a chunk at a time."""

    def __init__(self, scanner: VirusScanner) -> None:
        """Scan with this clamd client."""
        self.scanner = scanner

    async def verdict(self, file: IO[bytes]) -> ScanResult:
        """Say what clamd found; a clamd out of reach leaves the file to be scanned later."""
        found = await self.scanner.scan(_chunks(file))
        if found.outcome is Outcome.INFECTED:
            logger.warning("record quarantined: the virus scan found %s", found.signature)
        return SCAN_RESULTS[found.outcome]


def scanner_for(clamd_socket: str | None, timeout_seconds: float) -> Scanner:
    """The scanner the settings ask for: clamd at its address, or none."""
    if clamd_socket is None:
        return NoScanner()
    return ClamavScanner(VirusScanner(clamd_socket, timeout_seconds=timeout_seconds))


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """Read a file from its start, a chunk at a time, for the scanner."""
    file.seek(0)
    while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
        yield chunk


@dataclass(frozen=True)
class Received:
    """What was found of a file on its way in, and what the sender said of it."""

    length: int
    inspected: Inspected
    verdict: ScanResult
    label: RecordLabel | None
    key: str | None


@dataclass(frozen=True)
class IssuedLink:
    """A new upload link: its secret token (given out once, never stored) and its ticket."""

    token: str
    ticket: Ticket
    expires_at: datetime


class Records:
    """Receives, lists, opens and destroys the files of the patients' requests."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        vault: Vault,
        scanner: Scanner,
        limits: RecordLimits,
    ) -> None:
        """Keep files in `vault`, scan them with `scanner`, within `limits`."""
        self.sessionmaker = sessionmaker
        self.vault = vault
        self.scanner = scanner
        self.limits = limits

    async def request_of(self, channel: Channel, address: str) -> Ticket:
        """The conversation's most recent open request, or NoOpenRequest."""
        async with self.sessionmaker() as session:
            ticket = await session.scalar(
                select(Ticket)
                .where(
                    Ticket.channel == channel.value,
                    Ticket.channel_address == address,
                    Ticket.kind == TicketKind.REQUEST.value,
                    Ticket.status.notin_([status.value for status in FINAL_STATUSES]),
                    Ticket.erased_at.is_(None),
                )
                .order_by(Ticket.id.desc())
                .limit(1)
            )
        if ticket is None:
            raise NoOpenRequest()
        return ticket

    async def check_room(self, ticket: Ticket, length: int) -> None:
        """Refuse, before reading it, a file over its limit or over the request's."""
        if length > self.limits.file_bytes:
            raise FileTooLarge(most=self.limits.file_bytes)
        async with self.sessionmaker() as session:
            used = await session.scalar(
                select(func.coalesce(func.sum(Attachment.size), 0)).where(
                    Attachment.ticket_id == ticket.id
                )
            )
        if int(used or 0) + length > self.limits.request_bytes:
            raise RequestTooLarge(most=self.limits.request_bytes)

    async def already_received(self, ticket: Ticket, key: str | None) -> Attachment | None:
        """The file of this request already received under an idempotency key, if any."""
        if key is None:
            return None
        async with self.sessionmaker() as session:
            return await session.scalar(
                select(Attachment).where(
                    Attachment.ticket_id == ticket.id, Attachment.idempotency_key == key
                )
            )

    async def receive(
        self,
        ticket: Ticket,
        body: AsyncIterable[bytes],
        length: int,
        label: RecordLabel | None,
        key: str | None = None,
    ) -> Attachment:
        """Check, scan, encrypt and list one file of exactly `length` bytes for a request."""
        with self._spooled() as file:
            await _spool(body, file, length)
            inspected = await asyncio.to_thread(inspect, file, self.limits.archive)
            verdict = await self.scanner.verdict(file)
            received = Received(length, inspected, verdict, label, key)
            return await self._keep(ticket, file, received)

    async def relabel(self, ticket: Ticket, attachment_id: str, label: RecordLabel) -> Attachment:
        """Change what a file of the ticket holds, as the patient says."""
        async with self.sessionmaker() as session:
            attachment = await _attachment_of(session, ticket.id, attachment_id)
            if attachment.label != label.value or attachment.label_guessed:
                old = attachment.label
                attachment.label = label.value
                attachment.label_guessed = False
                fresh = await queries.get_ticket(session, ticket.reference, fresh=True)
                _mark_received(fresh, label.value)
                queries.record_event(
                    session,
                    fresh,
                    queries.Actor.service(),
                    TicketAction.FILE_RELABELLED,
                    old,
                    label.value,
                )
                await session.commit()
            return attachment

    async def issue_link(self, ticket: Ticket) -> IssuedLink:
        """Give the request a new upload link, revoking the one it had."""
        token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
        now = utcnow()
        expires_at = now + timedelta(days=self.limits.link_days)
        async with self.sessionmaker() as session:
            await _revoke_links(session, ticket.id, now)
            session.add(
                UploadLink(
                    token_hash=_hash(token),
                    ticket_id=ticket.id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            queries.record_event(
                session,
                ticket,
                queries.Actor.service(),
                TicketAction.UPLOAD_LINK_ISSUED,
                None,
                expires_at.isoformat(),
            )
            await session.commit()
        return IssuedLink(token, ticket, expires_at)

    async def request_of_link(self, token: str) -> tuple[Ticket, UploadLink]:
        """The open request an upload link adds files to; looking never uses the link up."""
        async with self.sessionmaker() as session:
            link = await session.get(UploadLink, _hash(token))
            if link is None:
                raise UnknownLink()
            ticket = await session.get(Ticket, link.ticket_id)
        if link.revoked_at is not None or ticket is None or ticket.erased_at is not None:
            raise LinkRevoked()
        if ticket.status in {status.value for status in FINAL_STATUSES}:
            raise LinkRevoked()
        if link.expires_at <= utcnow():
            raise LinkExpired()
        return ticket, link

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        """A ticket's files, in the order they came."""
        async with self.sessionmaker() as session:
            return list(
                await session.scalars(
                    select(Attachment)
                    .where(Attachment.ticket_id == ticket_id)
                    .order_by(Attachment.received_at, Attachment.id)
                )
            )

    async def open(
        self, ticket: Ticket, attachment_id: str, actor: queries.Actor, action: TicketAction
    ) -> tuple[Attachment, Iterator[bytes]]:
        """Decrypt a clean file for staff, auditing who opened it and how."""
        attachment, chunks = await self.read(ticket, attachment_id)
        async with self.sessionmaker() as session:
            queries.record_event(session, ticket, actor, action, None, attachment.label)
            await session.commit()
        return attachment, chunks

    async def read(self, ticket: Ticket, attachment_id: str) -> tuple[Attachment, Iterator[bytes]]:
        """Decrypt a clean file of the ticket without auditing it: the caller audits, once."""
        async with self.sessionmaker() as session:
            attachment = await _attachment_of(session, ticket.id, attachment_id)
            if attachment.scan != ScanResult.CLEAN.value:
                raise FileQuarantined()
            key = await session.get(RecordKey, ticket.id)
        if key is None:
            raise NoSuchAttachment()
        return attachment, self.vault.open(ticket.id, attachment.id, key.wrapped)

    async def rescan_pending(self) -> int:
        """Scan again the files the scanner could not see when they came; return how many."""
        async with self.sessionmaker() as session:
            pending = list(
                await session.scalars(
                    select(Attachment).where(Attachment.scan == ScanResult.PENDING.value)
                )
            )
        scanned = 0
        for attachment in pending:
            async with self.sessionmaker() as session:
                key = await session.get(RecordKey, attachment.ticket_id)
                if key is None:
                    continue
                with self._spooled() as file:
                    for chunk in self.vault.open(attachment.ticket_id, attachment.id, key.wrapped):
                        file.write(chunk)
                    verdict = await self.scanner.verdict(file)
                if verdict is ScanResult.PENDING:
                    return scanned
                stored = await session.get(Attachment, attachment.id)
                if stored is not None:
                    stored.scan = verdict.value
                    stored.scanned_at = utcnow()
                    await session.commit()
                    scanned += 1
        return scanned

    def destroy_files(self, ticket_ids: list[int]) -> None:
        """Delete the files on disk of tickets whose keys are gone."""
        for ticket_id in ticket_ids:
            self.vault.destroy(ticket_id)

    async def sweep(self) -> int:
        """Delete every folder of files whose ticket has no key left (erased, or never kept)."""
        async with self.sessionmaker() as session:
            keyed = set(await session.scalars(select(RecordKey.ticket_id)))
        orphans = [ticket_id for ticket_id in self.vault.folders() if ticket_id not in keyed]
        self.destroy_files(orphans)
        return len(orphans)

    async def _keep(self, ticket: Ticket, file: IO[bytes], received: Received) -> Attachment:
        """Encrypt the file under the ticket's key and list it, with the checklist and audit."""
        attachment_id = str(uuid.uuid4())
        inspected, verdict, label = received.inspected, received.verdict, received.label
        wrapped = await self._key_of(ticket.id)
        await asyncio.to_thread(self.vault.store, ticket.id, attachment_id, wrapped, file)
        now = utcnow()
        attachment = Attachment(
            id=attachment_id,
            ticket_id=ticket.id,
            label=(label or guess_label(inspected)),
            label_guessed=label is None,
            content_type=inspected.content_type,
            size=received.length,
            received_at=now,
            scan=verdict.value,
            scanned_at=None if verdict is ScanResult.PENDING else now,
            dicom=inspected.dicom,
            idempotency_key=received.key,
        )

        def apply(fresh: Ticket) -> None:
            """List the file on the ticket, tick its checklist item, and audit it."""
            session.add(attachment)  # again after a retry: the rollback took it out
            if verdict is not ScanResult.INFECTED:
                _mark_received(fresh, attachment.label)
                fresh.last_file_at = now
            queries.record_event(
                session,
                fresh,
                queries.Actor.service(),
                TicketAction.FILE_RECEIVED,
                None,
                f"{attachment.label} {attachment.content_type} {attachment.scan}",
            )

        try:
            async with self.sessionmaker() as session:
                await queries.change_ticket(session, ticket.reference, apply)
        except BaseException:
            self.vault.remove(ticket.id, attachment_id)
            raise
        logger.info("record received: %s, %s", inspected.content_type, verdict.value)
        return attachment

    async def _key_of(self, ticket_id: int) -> bytes:
        """The ticket's key, as stored (encrypted); made the first time a file comes."""
        async with self.sessionmaker() as session:
            key = await session.get(RecordKey, ticket_id)
            if key is not None:
                return key.wrapped
            wrapped = self.vault.new_key()
            session.add(RecordKey(ticket_id=ticket_id, wrapped=wrapped))
            try:
                await session.commit()
            except IntegrityError:  # another file of the same request made it first
                await session.rollback()
                key = await session.get(RecordKey, ticket_id)
                if key is None:
                    raise
                return key.wrapped
            return wrapped

    @contextmanager
    def _spooled(self) -> Iterator[IO[bytes]]:
        """A scratch file for one file's checks, deleted whatever happens."""
        incoming = self.vault.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(incoming)) as file:
            yield file


async def forget(session: AsyncSession, ticket_id: int) -> None:
    """Delete a ticket's files' rows, key and upload links: its files can never be read again."""
    await session.execute(delete(Attachment).where(Attachment.ticket_id == ticket_id))
    await session.execute(delete(RecordKey).where(RecordKey.ticket_id == ticket_id))
    await session.execute(delete(UploadLink).where(UploadLink.ticket_id == ticket_id))


async def revoke_links(session: AsyncSession, ticket_id: int) -> None:
    """Revoke a request's upload links (it was closed)."""
    await _revoke_links(session, ticket_id, utcnow())


async def _revoke_links(session: AsyncSession, ticket_id: int, at: datetime) -> None:
    """Mark every live link of a ticket revoked."""
    links = await session.scalars(
        select(UploadLink).where(UploadLink.ticket_id == ticket_id, UploadLink.revoked_at.is_(None))
    )
    for link in links:
        link.revoked_at = at


async def _attachment_of(session: AsyncSession, ticket_id: int, attachment_id: str) -> Attachment:
    """One file of a ticket, or NoSuchAttachment."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket_id:
        raise NoSuchAttachment()
    return attachment


def _mark_received(ticket: Ticket, label: str) -> None:
    """Tick the checklist item a file belongs to."""
    if label in CHECKLIST_LABELS:
        ticket.records = {**ticket.records, label: RecordState.HAVE.value}


async def _spool(body: AsyncIterable[bytes], file: IO[bytes], length: int) -> None:
    """Copy exactly `length` bytes of a body into the scratch file."""
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > length:
            raise IncompleteBody(expected=length)
        file.write(chunk)
    if received != length:
        raise IncompleteBody(expected=length)


def _hash(token: str) -> str:
    """What is stored of an upload link's token."""
    return hashlib.sha256(token.encode()).hexdigest()

"""The patients' files at rest: encrypted with a key per request, which is itself encrypted.

Each ticket has its own 256-bit key (a `record_keys` row), encrypted with the service's key
(RECEPTION_FILES_KEY, or one derived from the session secret). A file is cut into chunks of
1 MiB, each sealed with AES-GCM under a nonce made of the file's random prefix and the chunk's
number; the associated data names the file, the chunk and whether it is the last, so chunks
cannot be swapped, replayed in another file or cut off. Destroying the ticket's key makes its
files unreadable; erasure destroys both.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .wording import CodedError

CHUNK_BYTES = 1024**2
KEY_BYTES = 32
PREFIX_BYTES = 8  # the file's part of every nonce; the chunk's number makes the other 4
TAG_BYTES = 16
MAGIC = b"SOR1"  # "second-opinion record", version 1
WRAP_INFO = b"second-opinion records: key wrapping"


class FileUnreadable(CodedError, ValueError):
    """A stored file does not decrypt: its key is gone, or the file was changed."""

    code = "file_unreadable"


def service_key(files_key: bytes | None, session_secret: str) -> bytes:
    """The key that encrypts the tickets' keys: the configured one, else one from the secret."""
    if files_key is not None:
        return files_key
    derive = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=WRAP_INFO)
    return derive.derive(session_secret.encode())


@dataclass(frozen=True)
class Vault:
    """Where the files lie, under a folder per ticket, and the key that guards their keys."""

    root: Path
    wrapping_key: bytes

    def new_key(self) -> bytes:
        """Make a ticket's key; return it encrypted, as it is stored."""
        key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        nonce = os.urandom(12)
        return nonce + AESGCM(self.wrapping_key).encrypt(nonce, key, b"record key")

    def store(self, ticket_id: int, file_id: str, wrapped: bytes, source: IO[bytes]) -> None:
        """Encrypt a file into the ticket's folder, in chunks, from the start of `source`."""
        cipher = AESGCM(self._unwrap(wrapped))
        prefix = os.urandom(PREFIX_BYTES)
        folder = self.root / str(ticket_id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{file_id}.partial"
        source.seek(0)
        with partial.open("wb") as sealed:
            sealed.write(MAGIC + prefix)
            chunk, number = source.read(CHUNK_BYTES), 0
            while True:
                following = source.read(CHUNK_BYTES)
                last = not following
                nonce = prefix + struct.pack(">I", number)
                sealed.write(cipher.encrypt(nonce, chunk, _context(file_id, number, last)))
                if last:
                    break
                chunk, number = following, number + 1
            sealed.flush()
            os.fsync(sealed.fileno())
        partial.replace(self._path(ticket_id, file_id))

    def open(self, ticket_id: int, file_id: str, wrapped: bytes) -> Iterator[bytes]:
        """Decrypt a stored file, chunk by chunk; raise FileUnreadable if it was tampered with."""
        cipher = AESGCM(self._unwrap(wrapped))
        with self._path(ticket_id, file_id).open("rb") as sealed:
            header = sealed.read(len(MAGIC) + PREFIX_BYTES)
            if header[: len(MAGIC)] != MAGIC:
                raise FileUnreadable()
            prefix = header[len(MAGIC) :]
            number = 0
            block = sealed.read(CHUNK_BYTES + TAG_BYTES)
            while True:
                following = sealed.read(CHUNK_BYTES + TAG_BYTES)
                nonce = prefix + struct.pack(">I", number)
                try:
                    yield cipher.decrypt(nonce, block, _context(file_id, number, not following))
                except InvalidTag as error:
                    raise FileUnreadable() from error
                if not following:
                    return
                block, number = following, number + 1

    def read(self, ticket_id: int, file_id: str, wrapped: bytes) -> bytes:
        """Decrypt a whole stored file into memory (for previews of small files)."""
        return b"".join(self.open(ticket_id, file_id, wrapped))

    def remove(self, ticket_id: int, file_id: str) -> None:
        """Delete one stored file, if it is there."""
        self._path(ticket_id, file_id).unlink(missing_ok=True)

    def destroy(self, ticket_id: int) -> None:
        """Delete every file of a ticket, and its folder."""
        shutil.rmtree(self.root / str(ticket_id), ignore_errors=True)

    def folders(self) -> list[int]:
        """The tickets that have a folder of files on disk."""
        if not self.root.is_dir():
            return []
        return [int(entry.name) for entry in self.root.iterdir() if entry.name.isdigit()]

    def _path(self, ticket_id: int, file_id: str) -> Path:
        """Where one encrypted file lies."""
        return self.root / str(ticket_id) / f"{file_id}.sealed"

    def _unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a ticket's key with the service's key."""
        try:
            return AESGCM(self.wrapping_key).decrypt(wrapped[:12], wrapped[12:], b"record key")
        except InvalidTag as error:
            raise FileUnreadable() from error


def _context(file_id: str, number: int, last: bool) -> bytes:
    """What each chunk is bound to: its file, its place, and whether the file ends there."""
    return f"{file_id}:{number}:{int(last)}".encode()

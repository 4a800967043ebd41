"""Uploads on disk: each one's bytes so far and what is known of it, so a restart resumes it.

Every upload has a random id, and lives in its link's folder (named by a hash of the link's
token): `<id>.part` holds the bytes received (its size is the upload's offset) and `<id>.json`
what the upload is: its length, its label, the link it belongs to, and once reception has
answered, the outcome (then the bytes are deleted). Nothing is named after the patient's file,
and nothing of this lives only in memory.

The bytes are encrypted on disk with AES-256 in counter mode, under the service's key and a
random starting block per upload: counter mode lets a write start at any offset, so an upload
resumes where its ciphertext stops. (Reception checks what a file is when it receives it; here
the bytes only wait.)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
PART, META = ".part", ".json"
LINK_FOLDER_CHARACTERS = 32
BLOCK = 16  # AES's block, in bytes
READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """One upload: how long it is, its label, its link, and reception's answer once it came."""

    id: str
    length: int
    label: str | None
    token: str  # the link's token, so that housekeeping can ask whether the link still works
    created_at: float
    outcome: Mapping[str, Any] | None = None  # {"state": "received"|"refused", …}
    start_block: str = ""  # base64: where this upload's cipher stream starts
    key_id: str = ""  # which key encrypts it (a hash of the key, never the key)

    def belongs_to(self, token: str) -> bool:
        """Tell whether this upload was made through the link with this token."""
        return hmac.compare_digest(self.token.encode(), token.encode())


class Appender:
    """Encrypt and append bytes to an upload's file, from the offset it has reached."""

    def __init__(self, file: BinaryIO, cipher: CipherContext) -> None:
        """Write to `file` through `cipher`, already at the file's end."""
        self._file = file
        self._cipher = cipher

    def write(self, data: bytes) -> None:
        """Encrypt and append (blocking: call it in a thread)."""
        self._file.write(self._cipher.update(data))

    def flush(self) -> None:
        """Push what was written to the disk (blocking)."""
        self._file.flush()
        os.fsync(self._file.fileno())


class Partials:
    """The uploads kept in one folder (created private, 0700, with files of mode 0600)."""

    def __init__(self, folder: Path, key: bytes) -> None:
        """Keep uploads in `folder`, creating it if needed, encrypted with a 32-byte key."""
        if len(key) != 2 * BLOCK:
            raise ValueError("the key of the uploads' files must be 32 bytes")
        self.folder = folder
        self._key = key
        self._key_id = hashlib.sha256(b"key id:" + key).hexdigest()[:16]
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def create(self, token: str, length: int, label: str | None) -> Upload:
        """Start an upload: an empty file for its bytes, and its description."""
        start = base64.b64encode(secrets.token_bytes(BLOCK)).decode()
        upload = Upload(
            secrets.token_urlsafe(16), length, label, token, time.time(), None, start, self._key_id
        )
        self._link_folder(token).mkdir(mode=0o700, exist_ok=True)
        _private(self._part(upload)).close()
        self._save(upload)
        return upload

    def get(self, token: str, upload_id: str) -> Upload | None:
        """The upload with this id made through this link, or None."""
        if not UPLOAD_ID.match(upload_id):
            return None
        upload = _read(self._link_folder(token) / f"{upload_id}{META}")
        if upload is None or not upload.belongs_to(token) or not self.readable(upload):
            return None
        return upload

    def readable(self, upload: Upload) -> bool:
        """Tell whether this service's key encrypts the upload (it may have changed since)."""
        return hmac.compare_digest(upload.key_id, self._key_id)

    def of_link(self, token: str) -> Iterator[Upload]:
        """Every upload made through one link."""
        yield from _read_all(self._link_folder(token))

    def all(self) -> Iterator[Upload]:
        """Every upload of every link."""
        for folder in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            yield from _read_all(folder)

    def offset(self, upload: Upload) -> int:
        """How many bytes have arrived: the size of its file, or all of them once answered."""
        try:
            return self._part(upload).stat().st_size
        except FileNotFoundError:
            return upload.length

    def is_complete(self, upload: Upload) -> bool:
        """Tell whether every byte arrived."""
        return self.offset(upload) >= upload.length

    @contextlib.contextmanager
    def appender(self, upload: Upload) -> Iterator[Appender]:
        """Append to an upload from its offset; the file is closed when done."""
        with self._part(upload).open("ab") as file:
            yield Appender(file, self._cipher(upload, file.tell()))

    def contents(self, upload: Upload) -> AsyncIterator[bytes]:
        """The upload's bytes, decrypted, as they are read; FileNotFoundError at once if gone."""
        file = self._part(upload).open("rb")
        return self._decrypted(file, self._cipher(upload, 0))

    async def _decrypted(self, file: BinaryIO, cipher: CipherContext) -> AsyncIterator[bytes]:
        """Read a file in a thread, a megabyte at a time, and decrypt it."""
        with file:
            while chunk := await asyncio.to_thread(file.read, READ_BYTES):
                yield cipher.update(chunk)

    def stored_path(self, upload: Upload) -> Path:
        """The file that holds the upload's bytes, encrypted."""
        return self._part(upload)

    def _cipher(self, upload: Upload, offset: int) -> CipherContext:
        """The upload's cipher stream, positioned at `offset` (counter mode: same both ways)."""
        start = int.from_bytes(base64.b64decode(upload.start_block), "big")
        counter = (start + offset // BLOCK) % (1 << (8 * BLOCK))
        mode = modes.CTR(counter.to_bytes(BLOCK, "big"))
        cipher = Cipher(algorithms.AES(self._key), mode).encryptor()
        cipher.update(bytes(offset % BLOCK))  # into the block where the offset falls
        return cipher

    def touched_at(self, upload: Upload) -> float:
        """When bytes last arrived (or when it was answered, or made)."""
        for path in (self._part(upload), self._meta(upload)):
            try:
                return path.stat().st_mtime
            except FileNotFoundError:
                continue
        return upload.created_at

    def answer(self, upload: Upload, outcome: Mapping[str, Any]) -> Upload:
        """Record reception's answer and delete the bytes: reception holds them, or refused them."""
        answered = replace(upload, outcome=dict(outcome))
        self._save(answered)
        self._part(upload).unlink(missing_ok=True)
        return answered

    def delete(self, upload: Upload) -> None:
        """Forget an upload and its bytes (and its link's folder, once empty)."""
        self._part(upload).unlink(missing_ok=True)
        self._meta(upload).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._link_folder(upload.token).rmdir()

    def _save(self, upload: Upload) -> None:
        """Write the description atomically: a crash leaves the old one or the new one."""
        temporary = self._meta(upload).with_suffix(f"{META}.tmp")
        with _private(temporary) as file:
            file.write(json.dumps(asdict(upload)).encode())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._meta(upload))

    def _link_folder(self, token: str) -> Path:
        """The folder of one link's uploads: a hash of its token, never the token."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return self.folder / digest[:LINK_FOLDER_CHARACTERS]

    def _part(self, upload: Upload) -> Path:
        return self._link_folder(upload.token) / f"{upload.id}{PART}"

    def _meta(self, upload: Upload) -> Path:
        return self._link_folder(upload.token) / f"{upload.id}{META}"


def _read(path: Path) -> Upload | None:
    """The upload a description file describes, or None when there is none (or it is broken)."""
    try:
        return Upload(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, NotADirectoryError, ValueError, TypeError):
        return None


def _read_all(folder: Path) -> Iterator[Upload]:
    """Every upload described in one link's folder."""
    for path in sorted(folder.glob(f"*{META}")):
        if (upload := _read(path)) is not None:
            yield upload


def _private(path: Path) -> Any:
    """Open a file for writing (truncated) that only this service's user can read."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")

"""Uploads on disk: each one's bytes so far and what is known of it, so a restart resumes it.

Every upload has a random id. Under the uploads folder, `<id>.part` holds the bytes received
(its size is the upload's offset) and `<id>.json` what the upload is: its length, its label,
the link it belongs to, and once reception has answered, the outcome (then the bytes are
deleted). Nothing is named after the patient's file, and nothing of this lives only in memory.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
PART, META = ".part", ".json"


@dataclass(frozen=True)
class Upload:
    """One upload: how long it is, its label, its link, and reception's answer once it came."""

    id: str
    length: int
    label: str | None
    token: str  # the link's token, so that housekeeping can ask whether the link still works
    created_at: float
    outcome: Mapping[str, Any] | None = None  # {"state": "received"|"refused", …}

    def belongs_to(self, token: str) -> bool:
        """Tell whether this upload was made through the link with this token."""
        return hmac.compare_digest(self.token.encode(), token.encode())


class Partials:
    """The uploads kept in one folder (created private, 0700, with files of mode 0600)."""

    def __init__(self, folder: Path) -> None:
        """Keep uploads in `folder`, creating it if needed."""
        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def create(self, token: str, length: int, label: str | None) -> Upload:
        """Start an upload: an empty file for its bytes, and its description."""
        upload = Upload(secrets.token_urlsafe(16), length, label, token, time.time())
        _private(self._part(upload.id)).close()
        self._save(upload)
        return upload

    def get(self, upload_id: str) -> Upload | None:
        """The upload with this id, or None."""
        if not UPLOAD_ID.match(upload_id):
            return None
        try:
            raw = json.loads(self._meta(upload_id).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return Upload(**raw)

    def all(self) -> Iterator[Upload]:
        """Every upload in the folder."""
        for path in sorted(self.folder.glob(f"*{META}")):
            upload = self.get(path.stem)
            if upload is not None:
                yield upload

    def offset(self, upload: Upload) -> int:
        """How many bytes have arrived: the size of its file, or all of them once answered."""
        try:
            return self._part(upload.id).stat().st_size
        except FileNotFoundError:
            return upload.length

    def is_complete(self, upload: Upload) -> bool:
        """Tell whether every byte arrived."""
        return self.offset(upload) >= upload.length

    def bytes_path(self, upload: Upload) -> Path:
        """The file that holds the upload's bytes."""
        return self._part(upload.id)

    def touched_at(self, upload: Upload) -> float:
        """When bytes last arrived (or when it was answered, or made)."""
        for path in (self._part(upload.id), self._meta(upload.id)):
            try:
                return path.stat().st_mtime
            except FileNotFoundError:
                continue
        return upload.created_at

    def answer(self, upload: Upload, outcome: Mapping[str, Any]) -> Upload:
        """Record reception's answer and delete the bytes: reception holds them, or refused them."""
        answered = replace(upload, outcome=dict(outcome))
        self._save(answered)
        self._part(upload.id).unlink(missing_ok=True)
        return answered

    def delete(self, upload: Upload) -> None:
        """Forget an upload and its bytes."""
        self._part(upload.id).unlink(missing_ok=True)
        self._meta(upload.id).unlink(missing_ok=True)

    def _save(self, upload: Upload) -> None:
        """Write the description atomically: a crash leaves the old one or the new one."""
        temporary = self.folder / f"{upload.id}{META}.tmp"
        with _private(temporary) as file:
            file.write(json.dumps(asdict(upload)).encode())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._meta(upload.id))

    def _part(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}{PART}"

    def _meta(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}{META}"


def _private(path: Path) -> Any:
    """Open a file for writing (truncated) that only this service's user can read."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")

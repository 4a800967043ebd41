"""The files patients send: kept by file_id, described by getFile, served as the Bot API serves
them, at ``/file/bot<token>/<file_path>``.

A bot may download files of up to 20 MB: getFile refuses bigger ones with "file is too big", as
Telegram does, and a file gets its ``file_path`` only from a getFile that succeeded.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from harness.telegram_emulator.errors import JSONDict, TelegramApiError

DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Files:
    """The bytes of every file sent to the bot, and the downloads the bot made."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_id: dict[str, JSONDict] = field(default_factory=dict)
    by_path: dict[str, bytes] = field(default_factory=dict)
    downloads: list[JSONDict] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, data: bytes, folder: str, extension: str) -> JSONDict:
        """Keep a file; return what a message says of it (file_id, file_unique_id, file_size)."""
        with self.lock:
            number = next(self.numbers)
            file_id = f"BQACAgQAAxkBAAIB{number:08d}"
            described: JSONDict = {
                "file_id": file_id,
                "file_unique_id": f"AgAD{number:08d}",
                "file_size": len(data),
            }
            self.by_id[file_id] = {
                **described,
                "data": bytes(data),
                "path": f"{folder}/file_{number}.{extension}",
            }
        return dict(described)

    def get_file(self, file_id: object) -> JSONDict:
        """Answer getFile: the File with its file_path, or Telegram's refusal."""
        with self.lock:
            kept = self.by_id.get(str(file_id or ""))
            if kept is None:
                raise TelegramApiError(400, "Bad Request: invalid file_id")
            if kept["file_size"] > DOWNLOAD_LIMIT:
                raise TelegramApiError(400, "Bad Request: file is too big")
            self.by_path[kept["path"]] = kept["data"]
            keys = ("file_id", "file_unique_id", "file_size")
            return {key: kept[key] for key in keys} | {"file_path": kept["path"]}

    def download(self, file_path: str) -> bytes | None:
        """The bytes at a file_path getFile gave out (None if it gave none), noting the download."""
        with self.lock:
            data = self.by_path.get(file_path)
            self.downloads.append({"file_path": file_path, "found": data is not None})
            return data

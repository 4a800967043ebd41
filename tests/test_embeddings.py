"""Sentence embeddings: real vectors from the bundled model, a cache for training texts only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from embeddings import DIMENSIONS, SentenceEncoder


def cached_keys(cache: Path) -> int:
    """How many vectors the cache holds."""
    with sqlite3.connect(cache) as db:
        return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])


def test_similar_meanings_are_close_across_languages() -> None:
    """The same request in three languages is closer to itself than to another topic."""
    encoder = SentenceEncoder()
    vectors = encoder.encode(
        [
            "I would like a second opinion",
            "je voudrais un deuxième avis",
            "ik wil graag een tweede mening",
            "where can I park my car",
        ]
    )
    assert vectors.shape == (4, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    same = vectors[:3] @ vectors[:3].T
    other = vectors[:3] @ vectors[3]
    assert same[np.triu_indices(3, 1)].min() > other.max()


def test_training_texts_are_cached_and_patients_messages_are_not(tmp_path: Path) -> None:
    """remember=True fills the cache and reads it back; a patient's message leaves no trace."""
    cache = tmp_path / "embeddings.sqlite"
    encoder = SentenceEncoder(cache)
    first = encoder.encode(["how long does it take", "what does it cost"], remember=True)
    assert cached_keys(cache) == 2
    again = encoder.encode(["what does it cost", "how long does it take"], remember=True)
    assert np.array_equal(again[::-1], first)
    encoder.encode(["my name is Zebulon Quarrington"])
    assert cached_keys(cache) == 2
    assert b"Zebulon" not in cache.read_bytes()

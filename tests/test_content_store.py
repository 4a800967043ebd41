"""The content store reloads when a file changes, cheaply, and keeps working content if an edit
breaks it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from contentlib import ContentStore

TOPIC = """\
---
id: costs
title: How much does it cost?
examples: [what does it cost]
related: []
review: 2027-01-01
---
{answer}
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


def write(path: Path, text: str) -> None:
    """Write a content file and make its modification time differ from the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A content folder with one message and one topic."""
    write(tmp_path / "en" / "messages.yml", "hello: Hello.\n")
    write(tmp_path / "en" / "faq" / "costs.md", TOPIC.format(answer="Call reception."))
    write(tmp_path / "reference.yml", "centre: {name: Centre}\n")
    return tmp_path


def test_a_changed_message_is_seen_after_the_refresh_interval(root: Path) -> None:
    clock = Clock()
    store = ContentStore(root, clock=clock)
    assert store.text("hello", "en") == "Hello."
    write(root / "en" / "messages.yml", "hello: Welcome.\n")
    clock.now = 0.5
    assert store.text("hello", "en") == "Hello.", "looked again before a second passed"
    clock.now = 1.0
    assert store.text("hello", "en") == "Welcome."


def test_changed_answers_new_topics_and_facts_are_seen(root: Path) -> None:
    clock = Clock()
    store = ContentStore(root, clock=clock)
    assert store.answer("costs", "en") == "Call reception."
    write(root / "en" / "faq" / "costs.md", TOPIC.format(answer="It is free."))
    write(root / "en" / "faq" / "parking.md", TOPIC.replace("costs", "parking").format(answer="P"))
    write(root / "reference.yml", "centre: {name: New Centre}\n")
    clock.now = 2
    assert store.answer("costs", "en") == "It is free."
    assert set(store.topics("en")) == {"costs", "parking"}
    assert store.reference("en")["centre"]["name"] == "New Centre"


def test_a_new_language_is_seen(root: Path) -> None:
    clock = Clock()
    store = ContentStore(root, clock=clock)
    assert store.language_or_default("fr") == "en"
    write(root / "fr" / "messages.yml", "hello: Bonjour.\n")
    clock.now = 2
    assert store.text("hello", "fr") == "Bonjour."


def test_nothing_is_reread_while_nothing_changes(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    store = ContentStore(root, clock=clock)
    store.text("hello", "en")
    reads: list[Path] = []
    original = Path.read_text

    def counting(path: Path, *args: object, **kwargs: object) -> str:
        reads.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    for second in range(1, 5):
        clock.now = second
        assert store.text("hello", "en") == "Hello."
    assert reads == []


def test_a_broken_edit_keeps_the_content_that_worked(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = ContentStore(root, clock=clock)
    assert store.text("hello", "en") == "Hello."
    write(root / "en" / "messages.yml", "hello: [Hello\n")
    clock.now = 2
    with caplog.at_level(logging.ERROR, logger="contentlib.store"):
        assert store.text("hello", "en") == "Hello."
    assert "keeping the version loaded before" in caplog.text
    write(root / "en" / "messages.yml", "hello: Fixed.\n")
    clock.now = 4
    assert store.text("hello", "en") == "Fixed."

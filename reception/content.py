"""The editors' content as reception sees it: the store, the checker's findings, and one writer.

Reception reads content/ through contentlib (the same store and renderer the assistant uses) and
writes to it in one place only: adding a patient's question to a topic's example questions.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requestform
from contentlib import ContentStore
from contentlib.faq import add_example
from contentlib.store import content_stamp
from contenttools.check import Problem, check

from .wording import CodedError


class ExampleRefused(CodedError):
    """Adding the question would make the content check fail."""

    code = "example_refused"

    def __init__(self, question: str, problems: list[Problem]) -> None:
        """Keep the question and the problems the change would bring."""
        super().__init__(question=question, problems=[str(problem) for problem in problems])


@dataclass
class ContentDesk:
    """The content store, its check results (kept until a file changes), and a write lock."""

    store: ContentStore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _checked: tuple[object, list[Problem]] | None = field(default=None, repr=False)

    async def problems(self) -> list[Problem]:
        """What `make content-check` would say about the content now."""
        stamp = await asyncio.to_thread(content_stamp, self.store.root)
        if self._checked is None or self._checked[0] != stamp:
            self._checked = (stamp, await asyncio.to_thread(check, self.store.root))
        return self._checked[1]

    async def add_example(self, path: Path, question: str) -> None:
        """Append a question to a topic's examples, unless the check would then fail."""
        async with self.lock:
            await asyncio.to_thread(_add_example, self.store.root, path, question)


def _add_example(root: Path, path: Path, question: str) -> None:
    """Write the topic file with one more example, if that breaks no check."""
    updated = add_example(path.read_text(encoding="utf-8"), question, path)
    problems = new_errors(root, path, updated)
    if problems:
        raise ExampleRefused(question, problems)
    write_atomically(path, updated)


def new_errors(root: Path, path: Path, text: str) -> list[Problem]:
    """The errors the content check would find if `path` held `text`, that it does not find now."""
    before = {
        (problem.path, problem.what)
        for problem in check(root, form=requestform.DECLARATION)
        if not problem.warning
    }
    with tempfile.TemporaryDirectory(prefix="content-check-") as scratch:
        copy = Path(scratch) / root.resolve().name
        shutil.copytree(root, copy)
        (copy / path.resolve().relative_to(root.resolve())).write_text(text, encoding="utf-8")
        after = check(copy, form=requestform.DECLARATION)
    return [p for p in after if not p.warning and (p.path, p.what) not in before]


def write_atomically(path: Path, text: str) -> None:
    """Replace a file's text in one step, so no reader ever sees half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

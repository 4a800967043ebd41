"""FAQ topics: one Markdown file each, with YAML front matter, in content/<lang>/faq/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FRONT_MATTER_FENCE = "---"


class FrontMatterError(ValueError):
    """A topic file whose front matter cannot be read."""


@dataclass(frozen=True)
class FaqTopic:
    """One question patients ask, the ways they ask it, and the answer."""

    id: str
    title: str
    examples: tuple[str, ...]
    related: tuple[str, ...]
    review: dt.date | None
    body: str
    path: Path
    body_line: int

    @property
    def intent(self) -> str:
        """The Rasa intent that recognises this topic."""
        return f"faq_{self.id}"


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    """Return the front matter, the body, and the body's first line number."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise FrontMatterError(f"{path}:1: the file must start with a '---' line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        raise FrontMatterError(f"{path}:1: the front matter has no closing '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise FrontMatterError(f"{path}:{line}: the front matter is not valid YAML") from error
    if not isinstance(meta, dict):
        raise FrontMatterError(f"{path}:2: the front matter must be a list of 'key: value' lines")
    return meta, "\n".join(lines[end + 1 :]).strip(), end + 2


def load_topic(path: Path) -> FaqTopic:
    """Read one topic file."""
    meta, body, body_line = split_front_matter(path.read_text(encoding="utf-8"), path)
    review = meta.get("review")
    return FaqTopic(
        id=str(meta.get("id", path.stem)),
        title=str(meta.get("title", "")),
        examples=tuple(str(e) for e in meta.get("examples") or ()),
        related=tuple(str(r) for r in meta.get("related") or ()),
        review=review if isinstance(review, dt.date) else None,
        body=body,
        path=path,
        body_line=body_line,
    )


def load_topics(folder: Path) -> dict[str, FaqTopic]:
    """Read every topic of one language, by id, in file-name order."""
    if not folder.is_dir():
        return {}
    topics = [load_topic(path) for path in sorted(folder.glob("*.md"))]
    return {topic.id: topic for topic in topics}

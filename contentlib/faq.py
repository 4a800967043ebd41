"""FAQ topics: one Markdown file each, with YAML front matter, in content/<lang>/faq/."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FRONT_MATTER_FENCE = "---"


class FrontMatterError(ValueError):
    """A topic file whose front matter cannot be read."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        """Say where the front matter is wrong, and how."""
        super().__init__(f"{path}:{line}: {reason}")
        self.line = line
        self.reason = reason


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
        raise FrontMatterError(path, 1, "the file does not start with a '---' line")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        raise FrontMatterError(path, 1, "the front matter has no closing '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise FrontMatterError(path, line, "the front matter is not valid YAML") from error
    if not isinstance(meta, dict):
        raise FrontMatterError(path, 2, "the front matter is not a list of 'key: value' lines")
    body_lines = lines[end + 1 :]
    blank = next((i for i, line in enumerate(body_lines) if line.strip()), len(body_lines))
    return meta, "\n".join(body_lines).strip(), end + 2 + blank


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


def add_example(text: str, question: str, path: Path = Path("topic.md")) -> str:
    """Return the topic file's text with one more example question; nothing else changes."""
    lines = text.splitlines(keepends=True)
    meta, body, _ = split_front_matter(text, path)
    end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
    front = "".join(lines[1:end])
    examples = _examples_node(front, path)
    if examples.flow_style or not examples.value:
        close = front.rindex("]", 0, examples.end_mark.index)
        separator = ", " if examples.value else ""
        quoted = json.dumps(question, ensure_ascii=False)
        front = f"{front[:close]}{separator}{quoted}{front[close:]}"
    else:
        newline = "\r\n" if "\r\n" in text else "\n"
        at = front.find("\n", max(examples.value[-1].end_mark.index - 1, 0)) + 1
        line = f"{_item_prefix(front, examples.value[0])}{_yaml_item(question)}{newline}"
        front = front[:at] + line + front[at:]
    updated = lines[0] + front + "".join(lines[end:])
    new_meta, new_body, _ = split_front_matter(updated, path)
    if new_meta.get("examples") != [*meta["examples"], question] or new_body != body:
        raise FrontMatterError(path, 1, "the question cannot be added without changing more")
    return updated


def _examples_node(front: str, path: Path) -> yaml.SequenceNode:
    """The YAML node of the 'examples' list of a front matter."""
    root = yaml.compose(front)
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "examples" and isinstance(value, yaml.SequenceNode):
                return value
    raise FrontMatterError(path, 1, "the front matter has no 'examples' list")


def _item_prefix(front: str, first: yaml.Node) -> str:
    """The text before the first example on its line, such as '  - '."""
    start = front.rfind("\n", 0, first.start_mark.index) + 1
    prefix = front[start : first.start_mark.index]
    return prefix if prefix.strip() == "-" else "  - "


def _yaml_item(question: str) -> str:
    """The question as a YAML list item: as typed when YAML reads it back unchanged, else quoted."""
    try:
        if yaml.safe_load(f"- {question}") == [question]:
            return question
    except yaml.YAMLError:
        pass
    return json.dumps(question, ensure_ascii=False)

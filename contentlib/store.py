"""The content store: every sentence a patient reads, looked up by key and rendered with jinja2."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from contentlib import markdown
from contentlib.faq import FaqTopic, load_topics

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
REFERENCE_FILE = "reference.yml"
MESSAGES_FILE = "messages.yml"
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
FAQ_FOLDER = "faq"
CONTENT_SUFFIXES = (".yml", ".yaml", ".md")


class Markdown(str):
    """Text that is already in the editors' Markdown subset, inserted without escaping."""


class UnknownKey(KeyError):
    """A message key that the default language does not define."""


def _is_per_language(value: Mapping[Any, Any]) -> bool:
    """Tell whether a mapping gives one value per language, like {en: …, fr: …, nl: …}."""
    return DEFAULT_LANGUAGE in value and all(
        isinstance(key, str) and LANGUAGE_CODE.match(key) for key in value
    )


def localise(value: Any, language: str) -> Any:
    """Collapse every {en: …, fr: …, nl: …} mapping to the value for one language."""
    if isinstance(value, Mapping):
        if _is_per_language(value):
            return value.get(language, value[DEFAULT_LANGUAGE])
        return {key: localise(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [localise(item, language) for item in value]
    return value


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Turn nested YAML mappings into dotted keys: {"a": {"b": "x"}} -> {"a.b": "x"}."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = str(value)
    return flat


def _read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping, or an empty one when the file does not exist."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of keys at the top level")
    return loaded


def content_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every content file: it changes when any file does."""
    stamp = []
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(CONTENT_SUFFIXES):
                info = os.stat(os.path.join(folder, name))
                stamp.append((os.path.join(folder, name), info.st_mtime_ns, info.st_size))
    return tuple(sorted(stamp))


@dataclass(frozen=True)
class _Snapshot:
    """Everything loaded from the content folder at one moment."""

    languages: frozenset[str]
    messages: dict[str, dict[str, str]]
    reference: dict[str, Any]
    topics: dict[str, dict[str, FaqTopic]]

    @classmethod
    def load(cls, root: Path) -> _Snapshot:
        """Read every language's messages and topics, and the reference facts."""
        folders = [p for p in root.iterdir() if p.is_dir() and LANGUAGE_CODE.match(p.name)]
        messages = {}
        for folder in folders:
            merged: dict[str, str] = {}
            for path in sorted(folder.glob("*.yml")):
                merged.update(_flatten(_read_yaml(path)))
            messages[folder.name] = merged
        return cls(
            languages=frozenset(p.name for p in folders if (p / MESSAGES_FILE).exists()),
            messages=messages,
            reference=_read_yaml(root / REFERENCE_FILE),
            topics={folder.name: load_topics(folder / FAQ_FOLDER) for folder in folders},
        )


@dataclass
class ContentStore:
    """Messages per language from content/<lang>/*.yml, FAQ topics, and shared reference facts.

    The store notices when a content file changes (it looks at most once every
    `refresh_seconds`) and reloads, so edits are live without a restart. If the changed
    content cannot be read, it keeps the version it had and logs why.
    """

    root: Path
    refresh_seconds: float = 1.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _snapshot: _Snapshot | None = field(default=None, init=False, repr=False)
    _stamp: tuple[tuple[str, int, int], ...] = field(default=(), init=False, repr=False)
    _checked_at: float = field(default=float("-inf"), init=False, repr=False)
    _env: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
        ),
        init=False,
        repr=False,
    )

    def _content(self) -> _Snapshot:
        """The loaded content, reloaded first if a file changed since the last look."""
        now = self.clock()
        if self._snapshot is None or now - self._checked_at >= self.refresh_seconds:
            self._checked_at = now
            stamp = content_stamp(self.root)
            if self._snapshot is None or stamp != self._stamp:
                self._stamp = stamp
                self._snapshot = self._reloaded(self._snapshot)
        return self._snapshot

    def _reloaded(self, previous: _Snapshot | None) -> _Snapshot:
        """Load the content again; keep the previous version if the new one cannot be read."""
        try:
            snapshot = _Snapshot.load(self.root)
        except Exception as error:
            if previous is None:
                raise
            logger.error(
                "content in %s cannot be read (%s); keeping the version loaded before",
                self.root,
                error.__class__.__name__,
            )
            return previous
        if previous is not None:
            logger.info("content in %s changed; reloaded", self.root)
        return snapshot

    @property
    def languages(self) -> frozenset[str]:
        """The languages that have a content folder."""
        return self._content().languages

    def language_or_default(self, language: str | None) -> str:
        """Return the language if we have content for it, else the default language."""
        code = (language or "").split("-")[0].lower()
        return code if code in self.languages else DEFAULT_LANGUAGE

    def reference(self, language: str) -> dict[str, Any]:
        """The reference facts, with per-language values resolved for `language`."""
        return localise(self._content().reference, language)

    def messages(self, language: str) -> dict[str, str]:
        """All message templates of one language (every YAML file of its folder), by dotted key."""
        return self._content().messages.get(language, {})

    def has(self, key: str) -> bool:
        """Tell whether the default language defines `key`."""
        return key in self.messages(DEFAULT_LANGUAGE)

    def text(self, key: str, language: str | None = None, /, **variables: Any) -> Markdown:
        """Render the message `key` in `language`, falling back to the default language."""
        lang = self.language_or_default(language)
        template = self.messages(lang).get(key)
        if template is None:
            template = self.messages(DEFAULT_LANGUAGE).get(key)
            if template is None:
                raise UnknownKey(key)
            logger.warning("content key %s missing in %s; using %s", key, lang, DEFAULT_LANGUAGE)
        return self.render(template, lang, **variables)

    def render(self, template: str, language: str, /, **variables: Any) -> Markdown:
        """Render a template with the reference facts; the caller's plain strings show as typed."""
        safe = {
            name: value
            if isinstance(value, Markdown) or not isinstance(value, str)
            else markdown.escape(value)
            for name, value in variables.items()
        }
        reference = self.reference(language)
        if clash := sorted(set(safe) & set(reference)):
            raise ValueError(f"variables {clash} would hide the reference facts of the same name")
        context = {**reference, **safe}
        return Markdown(self._env.from_string(template).render(context).strip())

    def topics(self, language: str | None = None) -> dict[str, FaqTopic]:
        """The FAQ topics of a language (the default language's if it has none)."""
        topics = self._content().topics
        return topics.get(self.language_or_default(language)) or topics.get(DEFAULT_LANGUAGE, {})

    def answer(self, topic_id: str, language: str | None = None) -> Markdown:
        """Render the answer of one FAQ topic."""
        lang = self.language_or_default(language)
        topic = self.topics(lang).get(topic_id) or self.topics(DEFAULT_LANGUAGE)[topic_id]
        return self.render(topic.body, lang)

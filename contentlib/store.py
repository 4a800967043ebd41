"""The content store: every sentence a patient reads, looked up by key and rendered with jinja2."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
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


class Markdown(str):
    """Text that is already in the editors' Markdown subset, inserted without escaping."""


class UnknownKey(KeyError):
    """A message key that the default language does not define."""


def _is_per_language(value: Mapping[Any, Any]) -> bool:
    """Tell whether a mapping gives one value per language, like {en: …, fr: …, nl: …}."""
    return DEFAULT_LANGUAGE in value and all(
        isinstance(key, str) and LANGUAGE_CODE.match(key) for key in value
    )


def _localise(value: Any, language: str) -> Any:
    """Collapse every {en: …, fr: …, nl: …} mapping to the value for one language."""
    if isinstance(value, Mapping):
        if _is_per_language(value):
            return value.get(language, value[DEFAULT_LANGUAGE])
        return {key: _localise(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [_localise(item, language) for item in value]
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


@dataclass
class ContentStore:
    """Messages per language from content/<lang>/messages.yml, plus shared reference facts."""

    root: Path
    _messages: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False)
    _reference: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _topics: dict[str, dict[str, FaqTopic]] = field(default_factory=dict, init=False, repr=False)
    _env: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
        ),
        init=False,
        repr=False,
    )

    @property
    def languages(self) -> frozenset[str]:
        """The languages that have a content folder."""
        return frozenset(p.name for p in self.root.iterdir() if (p / MESSAGES_FILE).exists())

    def language_or_default(self, language: str | None) -> str:
        """Return the language if we have content for it, else the default language."""
        code = (language or "").split("-")[0].lower()
        return code if code in self.languages else DEFAULT_LANGUAGE

    def reference(self, language: str) -> dict[str, Any]:
        """The reference facts, with per-language values resolved for `language`."""
        if self._reference is None:
            self._reference = _read_yaml(self.root / REFERENCE_FILE)
        return _localise(self._reference, language)

    def messages(self, language: str) -> dict[str, str]:
        """All message templates of one language (every YAML file of its folder), by dotted key."""
        if language not in self._messages:
            merged: dict[str, str] = {}
            for path in sorted((self.root / language).glob("*.yml")):
                merged.update(_flatten(_read_yaml(path)))
            self._messages[language] = merged
        return self._messages[language]

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
        lang = self.language_or_default(language)
        if lang not in self._topics:
            self._topics[lang] = load_topics(self.root / lang / FAQ_FOLDER)
        return self._topics[lang] or (
            self.topics(DEFAULT_LANGUAGE) if lang != DEFAULT_LANGUAGE else {}
        )

    def answer(self, topic_id: str, language: str | None = None) -> Markdown:
        """Render the answer of one FAQ topic."""
        lang = self.language_or_default(language)
        topic = self.topics(lang).get(topic_id) or self.topics(DEFAULT_LANGUAGE)[topic_id]
        return self.render(topic.body, lang)

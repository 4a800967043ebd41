"""Compare the NLU examples of each language with English's: every intent, as many examples.

The assistant understands a language only as well as its examples: an intent with fewer
examples in French than in English is understood less well in French. `make content-check`
reports each gap as `nlu/<lang>/<file>:<line>` with what to add.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import yaml

from contentlib.store import DEFAULT_LANGUAGE, LANGUAGE_CODE


@dataclass(frozen=True)
class Intent:
    """One intent's examples in one language: where they start, and how many there are."""

    name: str
    path: Path
    line: int
    examples: int


@dataclass(frozen=True)
class Gap:
    """An intent a language lacks or has fewer examples of, told as a content problem is."""

    path: Path
    line: int
    what: str
    todo: str


def intents_of(folder: Path) -> dict[str, Intent]:
    """The intents of one language's NLU files, with their examples counted (all blocks)."""
    found: dict[str, Intent] = {}
    for path in sorted(folder.glob("*.yml")):
        root = yaml.compose(path.read_text(encoding="utf-8"))
        blocks = _value(root, "nlu")
        for block in blocks.value if isinstance(blocks, yaml.SequenceNode) else []:
            name, examples = _value(block, "intent"), _value(block, "examples")
            if not isinstance(name, yaml.ScalarNode) or not isinstance(examples, yaml.ScalarNode):
                continue
            count = sum(1 for line in examples.value.splitlines() if line.strip().startswith("-"))
            earlier = found.get(name.value)
            found[name.value] = (
                dataclasses.replace(earlier, examples=earlier.examples + count)
                if earlier
                else Intent(name.value, path, name.start_mark.line + 1, count)
            )
    return found


def gaps(nlu: Path) -> list[Gap]:
    """Every intent missing in a language, short of English's examples, or unknown to English."""
    languages = sorted(p.name for p in nlu.iterdir() if p.is_dir() and LANGUAGE_CODE.match(p.name))
    if DEFAULT_LANGUAGE not in languages:
        return []
    english = intents_of(nlu / DEFAULT_LANGUAGE)
    found = []
    for language in languages:
        if language == DEFAULT_LANGUAGE:
            continue
        other = intents_of(nlu / language)
        for name, source in sorted(english.items()):
            where = f"{_shown(nlu, source.path)}:{source.line}"
            translated = other.get(name)
            if translated is None:
                found.append(
                    Gap(
                        nlu / language / source.path.name,
                        1,
                        f"the intent '{name}' has no examples",
                        f"write at least {source.examples}, in this language's words, "
                        f"like those in {where}",
                    )
                )
            elif translated.examples < source.examples:
                missing = source.examples - translated.examples
                found.append(
                    Gap(
                        translated.path,
                        translated.line,
                        f"the intent '{name}' has {translated.examples} examples; "
                        f"English has {source.examples} ({where})",
                        f"add at least {missing} more ways patients say this",
                    )
                )
        for name in sorted(set(other) - set(english)):
            found.append(
                Gap(
                    other[name].path,
                    other[name].line,
                    f"the intent '{name}' does not exist in English",
                    f"remove it, or add it to {_shown(nlu, nlu / DEFAULT_LANGUAGE)} first",
                )
            )
    return found


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value under `key` in a YAML mapping node, or None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for name, value in node.value:
        if isinstance(name, yaml.ScalarNode) and name.value == key:
            return value
    return None


def _shown(nlu: Path, path: Path) -> str:
    """A path as the checker prints it: from the folder that holds nlu/."""
    return str(path.resolve().relative_to(nlu.resolve().parent))

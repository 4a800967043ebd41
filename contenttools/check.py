"""Check the editors' content before it goes live.

    python -m contenttools.check [--content content] [--nlu nlu] [--form data/request_form.yml]

Prints one line per problem, `path:line: what is wrong — what to do`, and exits with 1 when
there is any error. A warning (a review date that has passed) is printed, but does not fail.
content/README.md explains every message to editors. The NLU examples of each language are
compared with English's too (see contenttools/intents.py), and every message the request form's
declaration names must exist.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import jinja2.meta
import jinja2.nodes
import yaml

import requestform
from contentlib import markdown, questions
from contentlib.faq import FRONT_MATTER_FENCE, FrontMatterError, split_front_matter
from contentlib.store import (
    DEFAULT_LANGUAGE,
    FAQ_FOLDER,
    LANGUAGE_CODE,
    REFERENCE_FILE,
    Markdown,
    localise,
)
from contentlib.variables import variables_of
from contenttools import intents

MIN_EXAMPLES = 8
SIMILARITY = 0.9
TELEGRAM_LIMIT = 4096
REQUIRED_FIELDS = ("id", "title", "examples", "related", "review")
TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_NUMBER = re.compile(r"^\+?[0-9]{3,}$")
FIELD_HELP = {
    "id": "add a line 'id: ' with the file name without .md",
    "title": "add a line 'title: ' with the question as patients read it on a button",
    "examples": "add 'examples:' with at least 8 questions under it, each on a line of its own",
    "related": "add 'related: []', or the ids of related topics, like 'related: [costs]'",
    "review": "add a line 'review: ' with the date to read this answer again, like 2027-01-31",
}
_ENVIRONMENT = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing an editor must fix (or, for a warning, should look at)."""

    path: str
    line: int
    what: str
    todo: str
    warning: bool = False

    def __str__(self) -> str:
        """The line the checker prints: path:line: what is wrong — what to do."""
        level = "WARNING: " if self.warning else ""
        return f"{self.path}:{self.line}: {level}{self.what} — {self.todo}"


@dataclass(frozen=True)
class Text:
    """A message template or an FAQ answer, with where its first line is."""

    name: str
    source: str
    path: Path
    line: int
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    """An FAQ topic file as read for checking, with the line of each field and example."""

    path: Path
    meta: dict[str, Any]
    lines: dict[str, int]
    example_lines: tuple[int, ...]
    fence_line: int
    answer: Text | None


@dataclass
class Checker:
    """Collect the problems of one content folder."""

    root: Path
    today: dt.date
    nlu: Path | None = None
    form: Path | None = None
    problems: list[Problem] = field(default_factory=list)

    def report(self, path: Path, line: int, what: str, todo: str, warning: bool = False) -> None:
        """Note one problem."""
        self.problems.append(Problem(self.shown(path), line, what, todo, warning))

    def run(self) -> list[Problem]:
        """Check everything; return the problems in file and line order."""
        reference = self.read_yaml(self.root / REFERENCE_FILE)
        self.read_yaml(self.root / "safety.yml")
        languages = sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and LANGUAGE_CODE.match(p.name)
        )
        messages = {language: self.messages(language) for language in languages}
        topics = {language: self.topics(language) for language in languages}
        for language in languages:
            if language != DEFAULT_LANGUAGE:
                self.compare_messages(
                    language, messages.get(DEFAULT_LANGUAGE, {}), messages[language]
                )
                self.compare_topics(language, topics.get(DEFAULT_LANGUAGE, {}), topics[language])
            known = set(topics[language]) | set(topics.get(DEFAULT_LANGUAGE, {}))
            facts = localise(reference, language)
            for text in messages[language].values():
                self.check_text(text, facts, known, "shorten it")
            for topic in topics[language].values():
                self.check_topic(topic, known)
                if topic.answer is not None:
                    self.check_text(topic.answer, facts, known, "shorten it, or split the topic")
            self.check_examples(topics[language])
        if self.nlu is not None and self.nlu.is_dir():
            for gap in intents.gaps(self.nlu):
                self.report(gap.path, gap.line, gap.what, gap.todo)
        if self.form is not None and self.form.is_file():
            self.check_form(self.form, set(messages.get(DEFAULT_LANGUAGE, {})))
        return sorted(set(self.problems))

    def check_form(self, form: Path, known: set[str]) -> None:
        """Check that every message the request form's declaration names exists.

        In English: the other languages are compared with English.
        """
        path = self.root / DEFAULT_LANGUAGE / "messages.yml"
        for key in sorted(requestform.load(form).content_keys() - known):
            self.report(
                path,
                1,
                f"the request form ({form.name}) uses the message {key}, which is missing",
                f"add {key} to messages.yml",
            )

    def read_yaml(self, path: Path) -> Any:
        """Read a YAML file, reporting where it is not valid."""
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        except yaml.YAMLError as error:
            self.yaml_error(path, error)
            return {}

    def yaml_error(self, path: Path, error: yaml.YAMLError) -> None:
        """Report YAML that cannot be read."""
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "it cannot be read"
        self.report(
            path,
            mark.line + 1 if mark else 1,
            f"this is not valid YAML ({problem})",
            "check the indentation, and put text that contains ': ' or '#' in double quotes",
        )

    def messages(self, language: str) -> dict[str, Text]:
        """Every message of one language, by dotted key, with its file and line."""
        found: dict[str, Text] = {}
        for path in sorted((self.root / language).glob("*.yml")):
            try:
                node = yaml.compose(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                self.yaml_error(path, error)
                continue
            for key, leaf in _leaves(node):
                if key in found:
                    what = f"the message '{key}' is written twice"
                    todo = (
                        f"keep one: the other is at {self.shown(found[key].path)}:{found[key].line}"
                    )
                    self.report(path, leaf.start_mark.line + 1, what, todo)
                found[key] = self.message(path, key, leaf)
                self.check_key(path, key, leaf)
        return found

    def check_key(self, path: Path, key: str, leaf: yaml.Node) -> None:
        """Report a key that YAML reads as something else than a word (yes, no, on, 1…)."""
        for part in key.split("."):
            read = yaml.safe_load(part)
            if not isinstance(read, str):
                what = f"the key '{part}' of '{key}' reads as {read!r}, not as a word"
                todo = f'choose another word, or write it in quotes: "{part}"'
                self.report(path, leaf.start_mark.line + 1, what, todo)

    def message(self, path: Path, key: str, leaf: yaml.Node) -> Text:
        """One message from its YAML node, reporting values that are not text."""
        line = leaf.start_mark.line + 1
        if not isinstance(leaf, yaml.ScalarNode):
            self.report(path, line, f"the message '{key}' is not text", "write it as text")
            return Text(key, "", path, line)
        block = leaf.style in ("|", ">")
        return Text(key, leaf.value, path, line + block, variables_of(key))

    def topics(self, language: str) -> dict[str, Topic]:
        """Every readable FAQ topic of one language, by id (its file name)."""
        folder = self.root / language / FAQ_FOLDER
        found = {}
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
            topic = self.topic(path)
            if topic is not None:
                found[path.stem] = topic
        return found

    def topic(self, path: Path) -> Topic | None:
        """Read one topic file, reporting front matter that cannot be read."""
        text = path.read_text(encoding="utf-8")
        try:
            meta, body, body_line = split_front_matter(text, path)
        except FrontMatterError as error:
            todo = "put the id, title, examples, related and review between two '---' lines"
            self.report(path, error.line, error.reason, todo)
            return None
        lines = text.splitlines()
        fence = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
        root = yaml.compose("\n".join(lines[1:fence]))
        keys, items = _field_lines(root, offset=2)
        answer = Text(path.stem, body, path, body_line) if body else None
        if answer is None:
            self.report(path, fence + 1, "the topic has no answer", "write it below this line")
        return Topic(path, meta, keys, items, fence + 1, answer)

    def compare_messages(
        self, language: str, english: dict[str, Text], other: dict[str, Text]
    ) -> None:
        """Report messages missing from a translation, or that English does not have."""
        missing_files = set()
        for key in sorted(set(english) - set(other)):
            source = english[key]
            path = self.root / language / source.path.name
            if not path.exists():
                if path not in missing_files:
                    todo = f"copy {self.shown(source.path)} here and translate it"
                    self.report(path, 1, "this file is missing", todo)
                missing_files.add(path)
                continue
            where = f"{self.shown(source.path)}:{source.line}"
            self.report(path, 1, f"the message '{key}' is missing", f"translate it from {where}")
        for key in sorted(set(other) - set(english)):
            text = other[key]
            self.report(
                text.path,
                text.line,
                f"the message '{key}' does not exist in English",
                f"remove it, or add it to content/{DEFAULT_LANGUAGE}/{text.path.name} first",
            )

    def compare_topics(
        self, language: str, english: dict[str, Topic], other: dict[str, Topic]
    ) -> None:
        """Report topics missing from a translation, or that English does not have."""
        folder = self.root / language / FAQ_FOLDER
        for topic_id in sorted(set(english) - set(other)):
            self.report(
                folder / f"{topic_id}.md",
                1,
                f"the topic '{topic_id}' is missing",
                f"translate {self.shown(english[topic_id].path)} into this file",
            )
        for topic_id in sorted(set(other) - set(english)):
            self.report(
                other[topic_id].path,
                1,
                f"the topic '{topic_id}' does not exist in English",
                f"remove this file, or write content/{DEFAULT_LANGUAGE}/faq/{topic_id}.md first",
            )

    def shown(self, path: Path) -> str:
        """A path as the checker prints it: from the folder that holds content/, if it can."""
        resolved = path.resolve()
        base = self.root.resolve().parent
        return str(resolved.relative_to(base) if resolved.is_relative_to(base) else resolved)

    def check_topic(self, topic: Topic, known: set[str]) -> None:
        """Check the front matter fields of one topic."""
        for name in REQUIRED_FIELDS:
            if name not in topic.meta:
                what = f"the front matter has no '{name}'"
                self.report(topic.path, topic.fence_line, what, FIELD_HELP[name])
        self.check_id(topic)
        title = topic.meta.get("title")
        if "title" in topic.meta and (not isinstance(title, str) or not title.strip()):
            what, todo = "the title is empty", "write the question as patients read it"
            self.report(topic.path, topic.lines["title"], what, todo)
        self.check_related(topic, known)
        self.check_review(topic)

    def check_id(self, topic: Topic) -> None:
        """The id is the file name, in letters, digits and '_'."""
        topic_id = topic.meta.get("id")
        if topic_id is None:
            return
        line = topic.lines["id"]
        if not isinstance(topic_id, str) or not TOPIC_ID.match(topic_id):
            what = f"the id '{topic_id}' may only use lower-case letters, digits and '_'"
            self.report(topic.path, line, what, "use an id like 'records_deadline'")
        elif topic_id != topic.path.stem:
            what = f"the id '{topic_id}' is not the file name '{topic.path.name}'"
            todo = f"make them the same: rename the file to {topic_id}.md, or set the id"
            self.report(topic.path, line, what, f"{todo} to '{topic.path.stem}'")

    def check_related(self, topic: Topic, known: set[str]) -> None:
        """Related topics are a list of existing topic ids."""
        related = topic.meta.get("related")
        if related is None:
            return
        line = topic.lines["related"]
        if not isinstance(related, list):
            what, todo = "'related' is not a list", "write it like 'related: [costs, in_person]'"
            self.report(topic.path, line, what, todo)
            return
        for topic_id in related:
            if str(topic_id) not in known:
                what = f"the related topic '{topic_id}' does not exist"
                todo = "use the id of an existing topic (its file name without .md)"
                self.report(topic.path, line, what, todo)

    def check_review(self, topic: Topic) -> None:
        """The review date is a date; one that has passed is a warning."""
        review = topic.meta.get("review")
        if "review" not in topic.meta:
            return
        line = topic.lines["review"]
        if not isinstance(review, dt.date):
            what = f"the review date '{review}' is not a date"
            self.report(topic.path, line, what, "write it as YYYY-MM-DD, like 2027-01-31")
        elif review < self.today:
            what = f"the review date {review.isoformat()} has passed"
            todo = "read the answer again, correct it if needed, and set a new review date"
            self.report(topic.path, line, what, todo, warning=True)

    def check_examples(self, topics: dict[str, Topic]) -> None:
        """Enough example questions per topic, and none that two topics share."""
        seen: list[tuple[str, str, Topic, int]] = []
        for topic in topics.values():
            for question, line in self.examples_of(topic):
                seen.append((questions.normalise(question), question, topic, line))
        for (_, first, topic_a, line_a), (_, second, topic_b, line_b) in _similar_pairs(seen):
            if topic_a is topic_b:
                where = f"on line {line_a}"
                todo = "keep one of them, or make them more different"
            else:
                where = f"in {self.shown(topic_a.path)}:{line_a}"
                todo = "the assistant cannot tell the two topics apart: keep it in one topic"
            what = f'the example "{second}" is almost the same as "{first}" {where}'
            self.report(topic_b.path, line_b, what, todo)

    def examples_of(self, topic: Topic) -> list[tuple[str, int]]:
        """The example questions of a topic with their lines, reporting too few or odd ones."""
        examples = topic.meta.get("examples")
        if examples is None:
            return []
        line = topic.lines["examples"]
        if not isinstance(examples, list):
            todo = "write one question per line under 'examples:', starting with '  - '"
            self.report(topic.path, line, "'examples' is not a list of questions", todo)
            return []
        found = []
        for example, item_line in zip(examples, topic.example_lines, strict=False):
            if isinstance(example, str) and example.strip():
                found.append((example, item_line))
            else:
                what = f"this example is not read as a question ({example!r})"
                self.report(topic.path, item_line, what, "put the question in double quotes")
        if len(examples) < MIN_EXAMPLES:
            what = f"the topic has {len(examples)} example questions; it needs at least 8"
            self.report(topic.path, line, what, "add more ways patients might ask this question")
        return found

    def check_text(self, text: Text, facts: dict[str, Any], known: set[str], shorten: str) -> None:
        """Check the Markdown, the links, the template and the length of one text."""
        for issue in markdown.lint(text.source):
            self.report(text.path, text.line + issue.line, issue.what, issue.todo)
        for line, target, shape in markdown.links(text.source):
            problem = f"this link {shape}" if shape else _target_problem(target, known)
            if problem:
                todo = "write links as [text](https://…), or [text](faq:topic_id) for a topic"
                self.report(text.path, text.line + line, problem, todo)
        rendered = self.render(text, facts)
        if rendered is not None:
            length = len(markdown.to_telegram_html(rendered))
            if length > TELEGRAM_LIMIT:
                what = f"this is {length} characters long in Telegram; the limit is 4096"
                self.report(text.path, text.line, what, shorten)

    def render(self, text: Text, facts: dict[str, Any]) -> str | None:
        """Render a template with the facts and its example variables, reporting failures."""
        template = self.parse(text)
        if template is None or self.unknown_names(text, template, facts):
            return None
        values = {
            name: value if isinstance(value, Markdown) else markdown.escape(str(value))
            for name, value in text.variables.items()
        }
        try:
            return _ENVIRONMENT.from_string(text.source).render({**facts, **values})
        except jinja2.UndefinedError as error:
            name = re.findall(r"'([^']+)'$", str(error.message)) or [""]
            what = f"the template uses something that does not exist ({error.message})"
            line = text.line + _line_of(text.source, name[0])
            self.report(text.path, line, what, "check the fact's name in content/reference.yml")
        except (jinja2.TemplateError, TypeError, ValueError) as error:
            what = f"the template cannot be shown ({error})"
            self.report(text.path, text.line, what, "check the {{ }} expressions")
        return None

    def parse(self, text: Text) -> jinja2.nodes.Template | None:
        """The template's syntax tree, or None (reported) when it is broken."""
        try:
            return _ENVIRONMENT.parse(text.source)
        except jinja2.TemplateSyntaxError as error:
            what = f"the template is broken ({error.message})"
            todo = "check the {{ }} around fact names; a literal brace needs quotes: {{ '{' }}"
            self.report(text.path, text.line + (error.lineno or 1) - 1, what, todo)
            return None

    def unknown_names(
        self, text: Text, template: jinja2.nodes.Template, facts: dict[str, Any]
    ) -> list[str]:
        """Report and return the names a template uses that are neither facts nor its variables."""
        allowed = {*facts, *text.variables}
        unknown = sorted(jinja2.meta.find_undeclared_variables(template) - allowed)
        for name in unknown:
            what = f"'{{{{ {name} }}}}' is not a fact or variable that this text can use"
            self.report(text.path, text.line + _line_of(text.source, name), what, _use(text))
        return unknown


def _leaves(node: yaml.Node | None, prefix: str = "") -> Iterator[tuple[str, yaml.Node]]:
    """The dotted key and node of every value in a YAML mapping (nested keys are joined)."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        dotted = f"{prefix}{key.value}"
        if isinstance(value, yaml.MappingNode):
            yield from _leaves(value, f"{dotted}.")
        else:
            yield dotted, value


def _field_lines(root: yaml.Node | None, offset: int) -> tuple[dict[str, int], tuple[int, ...]]:
    """The line of each front matter field, and of each example question."""
    keys: dict[str, int] = {}
    items: tuple[int, ...] = ()
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            keys[str(key.value)] = key.start_mark.line + offset
            if key.value == "examples" and isinstance(value, yaml.SequenceNode):
                items = tuple(item.start_mark.line + offset for item in value.value)
    return keys, items


def _similar_pairs(
    examples: list[tuple[str, str, Topic, int]],
) -> Iterator[tuple[tuple[str, str, Topic, int], tuple[str, str, Topic, int]]]:
    """Pairs of examples whose normalised text is at least SIMILARITY alike, shorter first."""
    ordered = sorted(examples, key=lambda example: (len(example[0]), example[2].path, example[3]))
    matcher = difflib.SequenceMatcher(autojunk=False)
    for index, first in enumerate(ordered):
        matcher.set_seq2(first[0])
        for second in ordered[index + 1 :]:
            total = len(first[0]) + len(second[0])
            if total and 2 * len(first[0]) / total < SIMILARITY:
                break
            matcher.set_seq1(second[0])
            if matcher.quick_ratio() >= SIMILARITY and matcher.ratio() >= SIMILARITY:
                yield _in_file_order(first, second)


def _in_file_order(
    a: tuple[str, str, Topic, int], b: tuple[str, str, Topic, int]
) -> tuple[tuple[str, str, Topic, int], tuple[str, str, Topic, int]]:
    """Put the example that comes first in the files first."""
    return (a, b) if (a[2].path, a[3]) <= (b[2].path, b[3]) else (b, a)


def _target_problem(target: str, known: set[str]) -> str:
    """Say what is wrong with a link's address, or nothing."""
    if target.startswith("faq:"):
        topic_id = target.removeprefix("faq:")
        return (
            ""
            if topic_id in known
            else f"this link points to a topic that does not exist: '{topic_id}'"
        )
    if target.startswith(("https://", "http://")):
        host = urlsplit(target).hostname or ""
        return "" if "." in host else f"the link address '{target}' is not a complete web address"
    if target.startswith("mailto:"):
        ok = EMAIL_ADDRESS.match(target.removeprefix("mailto:"))
        return "" if ok else f"the e-mail link '{target}' is not an e-mail address"
    if target.startswith("tel:"):
        ok = PHONE_NUMBER.match(target.removeprefix("tel:"))
        return "" if ok else f"the phone link '{target}' is not a phone number without spaces"
    return f"the link address '{target}' is not a web page, an e-mail, a phone number or a topic"


def _line_of(source: str, name: str) -> int:
    """The line (from 0) of the first {{ … }} that mentions a name, or 0."""
    for number, line in enumerate(source.split("\n")):
        if name and re.search(r"\{\{[^}]*\b" + re.escape(name) + r"\b", line):
            return number
    return 0


def _use(text: Text) -> str:
    """Tell the editor which names a text may use."""
    own = ", ".join(sorted(text.variables))
    facts = "the facts of content/reference.yml, like {{ reception.phone }}"
    return f"use {facts}" + (f", or {own}" if own else "")


def check(
    root: Path, today: dt.date | None = None, nlu: Path | None = None, form: Path | None = None
) -> list[Problem]:
    """Check a content folder (and the NLU examples in `nlu`, and the messages the request form
    declared in `form` names, if given); return the problems,
    errors and warnings, in file order.
    """
    return Checker(root, today or dt.date.today(), nlu, form).run()


def summary(problems: list[Problem]) -> str:
    """One closing line: how many errors and warnings, and what it means."""
    errors = sum(not problem.warning for problem in problems)
    warnings = len(problems) - errors
    counts = f"{errors} problem{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if errors:
        return f"content check: {counts}. Fix the problems above; nothing is published until then."
    return f"content check: {counts}. The content is ready to publish."


def main(argv: list[str] | None = None) -> int:
    """Check the content folder from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=Path("content"))
    parser.add_argument("--nlu", type=Path, default=Path("nlu"))
    parser.add_argument("--form", type=Path, help="the request form's declaration")
    args = parser.parse_args(argv)
    problems = check(args.content, nlu=args.nlu, form=args.form)
    for problem in problems:
        print(problem)
    print(summary(problems))
    return 1 if any(not problem.warning for problem in problems) else 0


if __name__ == "__main__":
    sys.exit(main())

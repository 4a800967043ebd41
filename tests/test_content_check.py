"""The content checker: each check on a small broken content folder, with its exact message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contenttools import check
from harness.stack import ROOT
from tests.content_fixture import COSTS, DELAY, MESSAGES, content

TODAY = dt.date(2026, 3, 1)


def found(root: Path) -> list[str]:
    """The checker's lines for a content folder."""
    return [str(problem) for problem in check.check(root, TODAY)]


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a content file; the text must be there."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A valid content folder to break."""
    return content(tmp_path)


def test_valid_content_has_no_problems(root: Path) -> None:
    assert found(root) == []


def test_the_repositorys_content_passes() -> None:
    problems = check.check(ROOT / "content")
    assert [str(p) for p in problems if not p.warning] == []


def test_front_matter_that_is_not_yaml(root: Path) -> None:
    edit(root / "en/faq/costs.md", "title: How much does it cost?", "title: [oops")
    assert found(root) == [
        "content/en/faq/costs.md:4: the front matter is not valid YAML — put the id, title, "
        "examples, related and review between two '---' lines"
    ]


def test_a_file_without_front_matter(root: Path) -> None:
    (root / "en/faq/costs.md").write_text("Just an answer.\n")
    assert found(root) == [
        "content/en/faq/costs.md:1: the file does not start with a '---' line — put the id, "
        "title, examples, related and review between two '---' lines"
    ]


@pytest.mark.parametrize(
    ("line", "field", "todo"),
    [
        ("id: costs\n", "id", "add a line 'id: ' with the file name without .md"),
        (
            "title: How much does it cost?\n",
            "title",
            "add a line 'title: ' with the question as patients read it on a button",
        ),
        (
            "related: [delay]\n",
            "related",
            "add 'related: []', or the ids of related topics, like 'related: [costs]'",
        ),
        (
            "review: 2027-01-01\n",
            "review",
            "add a line 'review: ' with the date to read this answer again, like 2027-01-31",
        ),
    ],
)
def test_a_missing_field(root: Path, line: str, field: str, todo: str) -> None:
    edit(root / "en/faq/costs.md", line, "")
    assert found(root) == [
        f"content/en/faq/costs.md:14: the front matter has no '{field}' — {todo}"
    ]


def test_missing_examples(root: Path) -> None:
    text = (root / "en/faq/costs.md").read_text()
    start, end = text.index("examples:"), text.index("related:")
    (root / "en/faq/costs.md").write_text(text[:start] + text[end:])
    assert found(root) == [
        "content/en/faq/costs.md:6: the front matter has no 'examples' — add 'examples:' with "
        "at least 8 questions under it, each on a line of its own"
    ]


def test_an_id_that_is_not_the_file_name(root: Path) -> None:
    edit(root / "en/faq/costs.md", "id: costs", "id: prices")
    assert found(root) == [
        "content/en/faq/costs.md:2: the id 'prices' is not the file name 'costs.md' — make them "
        "the same: rename the file to prices.md, or set the id to 'costs'"
    ]


def test_an_example_yaml_reads_as_something_else(root: Path) -> None:
    edit(root / "en/faq/costs.md", "  - can I afford this", "  - price: is it high")
    assert found(root) == [
        "content/en/faq/costs.md:11: this example is not read as a question "
        "({'price': 'is it high'}) — put the question in double quotes"
    ]


def test_a_message_missing_in_a_language(root: Path) -> None:
    (root / "fr" / "faq").mkdir(parents=True)
    (root / "fr" / "messages.yml").write_text(
        "welcome: Bonjour.\nask_record: '**{{ name }}**'\nextra: De trop.\n"
    )
    for name in ("costs.md", "delay.md"):
        (root / "fr" / "faq" / name).write_text((root / "en" / "faq" / name).read_text())
    assert found(root) == [
        "content/fr/messages.yml:1: the message 'menu.why' is missing — translate it from "
        "content/en/messages.yml:8",
        "content/fr/messages.yml:3: the message 'extra' does not exist in English — remove it, "
        "or add it to content/en/messages.yml first",
    ]


def test_a_topic_missing_in_a_language_and_one_too_many(root: Path) -> None:
    (root / "fr" / "faq").mkdir(parents=True)
    (root / "fr" / "messages.yml").write_text(MESSAGES)
    (root / "fr" / "faq" / "costs.md").write_text(COSTS.replace("related: [delay]", "related: []"))
    (root / "fr" / "faq" / "parking.md").write_text(
        DELAY.replace("id: delay", "id: parking").replace("how", "combien")
    )
    assert found(root) == [
        "content/fr/faq/delay.md:1: the topic 'delay' is missing — translate "
        "content/en/faq/delay.md into this file",
        "content/fr/faq/parking.md:1: the topic 'parking' does not exist in English — remove "
        "this file, or write content/en/faq/parking.md first",
    ]


def test_a_whole_file_missing_in_a_language(root: Path) -> None:
    (root / "en" / "records.yml").write_text("records:\n  blood:\n    name: Blood tests\n")
    (root / "fr" / "faq").mkdir(parents=True)
    (root / "fr" / "messages.yml").write_text(MESSAGES)
    for name in ("costs.md", "delay.md"):
        (root / "fr" / "faq" / name).write_text((root / "en" / "faq" / name).read_text())
    assert found(root) == [
        "content/fr/records.yml:1: this file is missing — copy content/en/records.yml here and "
        "translate it"
    ]


def test_a_broken_template(root: Path) -> None:
    edit(root / "en/messages.yml", "Call {{ reception.phone }}", "Call {{ reception.phone }")
    assert found(root) == [
        "content/en/messages.yml:4: the template is broken (unexpected '}') — check the {{ }} "
        "around fact names; a literal brace needs quotes: {{ '{' }}"
    ]


def test_an_unknown_variable(root: Path) -> None:
    edit(root / "en/faq/costs.md", "call {{ reception.phone }}", "call {{ phone_number }}")
    assert found(root) == [
        "content/en/faq/costs.md:16: '{{ phone_number }}' is not a fact or variable that this "
        "text can use — use the facts of content/reference.yml, like {{ reception.phone }}"
    ]


def test_a_variable_of_another_message(root: Path) -> None:
    edit(root / "en/messages.yml", "Hello, this", "Hello {{ contains }}, this")
    assert found(root) == [
        "content/en/messages.yml:2: '{{ contains }}' is not a fact or variable that this text "
        "can use — use the facts of content/reference.yml, like {{ reception.phone }}"
    ]


def test_a_message_may_use_its_own_variables(root: Path) -> None:
    edit(root / "en/messages.yml", "{{ contains }}", "{{ contains }} ({{ centre.name }})")
    assert found(root) == []


def test_a_fact_that_does_not_exist(root: Path) -> None:
    edit(root / "en/faq/delay.md", "Usually a few weeks.", "Fax {{ reception.fax }}.")
    assert found(root) == [
        "content/en/faq/delay.md:16: the template uses something that does not exist ('dict "
        "object' has no attribute 'fax') — check the fact's name in content/reference.yml"
    ]


def test_near_identical_examples_in_two_topics(root: Path) -> None:
    edit(
        root / "en/faq/delay.md",
        "  - what is the timeline",
        "  - How much does a 2nd opinion cost?",
    )
    assert found(root) == [
        'content/en/faq/delay.md:11: the example "How much does a 2nd opinion cost?" is almost '
        'the same as "how much does a second opinion cost" in content/en/faq/costs.md:5 — the '
        "assistant cannot tell the two topics apart: keep it in one topic"
    ]


def test_near_identical_examples_in_one_topic(root: Path) -> None:
    edit(root / "en/faq/delay.md", "  - what is the timeline", "  - how long does the proces take")
    assert found(root) == [
        'content/en/faq/delay.md:11: the example "how long does the proces take" is almost the '
        'same as "how long does the process take" on line 5 — keep one of them, or make them '
        "more different"
    ]


def test_too_few_examples(root: Path) -> None:
    edit(root / "en/faq/delay.md", "  - what is the timeline\n  - how fast is the answer\n", "")
    assert found(root) == [
        "content/en/faq/delay.md:4: the topic has 6 example questions; it needs at least 8 — "
        "add more ways patients might ask this question"
    ]


def test_an_answer_longer_than_a_telegram_message(root: Path) -> None:
    edit(root / "en/faq/delay.md", "Usually a few weeks.", "**Weeks.** " * 400)
    assert found(root) == [
        "content/en/faq/delay.md:16: this is 5659 characters long in Telegram; the limit is "
        "4096 — shorten it, or split the topic"
    ]


def test_a_message_longer_than_a_telegram_message(root: Path) -> None:
    edit(root / "en/messages.yml", "why: Why a second opinion?", f"why: {'Why? ' * 900}")
    assert found(root) == [
        "content/en/messages.yml:8: this is 4499 characters long in Telegram; the limit is "
        "4096 — shorten it"
    ]


LINK_TODO = "write links as [text](https://…), or [text](faq:topic_id) for a topic"


@pytest.mark.parametrize(
    ("link", "what"),
    [
        ("[the delays](faq:delays)", "this link points to a topic that does not exist: 'delays'"),
        ("[the delays] (faq:delay)", "this link has a space between ']' and '('"),
        ("[the delays](faq:delay", "this link has no closing ')'"),
        ("[our site](https://example org)", "this link has a space in its address"),
        (
            "[our site](www.example.org)",
            "the link address 'www.example.org' is not a web page, "
            "an e-mail, a phone number or a topic",
        ),
        (
            "[our site](https://localhost)",
            "the link address 'https://localhost' is not a complete web address",
        ),
        (
            "[write](mailto:reception)",
            "the e-mail link 'mailto:reception' is not an e-mail address",
        ),
        ("[call](tel:+32 2 000)", "this link has a space in its address"),
    ],
)
def test_a_broken_link(root: Path, link: str, what: str) -> None:
    edit(root / "en/faq/costs.md", "[how long it takes](faq:delay)", link)
    assert found(root) == [f"content/en/faq/costs.md:18: {what} — {LINK_TODO}"]


def test_a_related_topic_that_does_not_exist(root: Path) -> None:
    edit(root / "en/faq/costs.md", "related: [delay]", "related: [delay, parking]")
    assert found(root) == [
        "content/en/faq/costs.md:13: the related topic 'parking' does not exist — use the id of "
        "an existing topic (its file name without .md)"
    ]


@pytest.mark.parametrize(
    ("markdown", "what", "todo"),
    [
        (
            "# Costs",
            "a heading ('# …') is not part of our Markdown",
            "write the heading in **bold** on a line of its own",
        ),
        ("| fee | 20 |", "a table is not part of our Markdown", "write one '- ' bullet per row"),
        (
            "![logo](https://example.org/logo.png)",
            "an image is not part of our Markdown",
            "remove it: the assistant can only send text",
        ),
        (
            "Call <b>now</b>",
            "an HTML tag is not part of our Markdown",
            "use **bold**, *italic*, '- ' lists and [text](https://…) links instead",
        ),
        (
            "Type `/start`",
            "code ('`…`') is not part of our Markdown",
            "write it as plain text, in **bold** if it must stand out",
        ),
        (
            "1. Call reception",
            "a numbered list ('1. …') is not part of our Markdown",
            "use a '- ' bullet list",
        ),
        (
            "> They said so",
            "a quotation ('> …') is not part of our Markdown",
            "write it as a normal paragraph",
        ),
        (
            "---",
            "a horizontal line ('---') is not part of our Markdown",
            "leave a blank line between paragraphs instead",
        ),
        (
            "This is **important",
            "a '*' is not closed, so it would show as a star",
            "close it (**bold**, *italic*), or write \\* for a star",
        ),
    ],
)
def test_markdown_outside_the_subset(root: Path, markdown: str, what: str, todo: str) -> None:
    edit(
        root / "en/faq/delay.md", "Usually a few weeks.", f"Usually a few weeks.\n\n{markdown}\n\n"
    )
    assert found(root) == [f"content/en/faq/delay.md:18: {what} — {todo}"]


def test_a_list_glued_to_the_text_above(root: Path) -> None:
    edit(root / "en/faq/delay.md", "Usually a few weeks.", "Usually:\n- a few weeks")
    assert found(root) == [
        "content/en/faq/delay.md:17: this list starts right under a line of text, so the list "
        "would not show — leave a blank line before the list"
    ]


def test_a_review_date_in_the_past_is_a_warning(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(root / "en/faq/delay.md", "review: 2027-01-01", "review: 2025-12-31")
    assert found(root) == [
        "content/en/faq/delay.md:14: WARNING: the review date 2025-12-31 has passed — read the "
        "answer again, correct it if needed, and set a new review date"
    ]
    assert check.main(["--content", str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "content check: 0 problems, 1 warning. The content is ready to publish."
    )


def test_a_review_that_is_not_a_date(root: Path) -> None:
    edit(root / "en/faq/delay.md", "review: 2027-01-01", "review: next year")
    assert found(root) == [
        "content/en/faq/delay.md:14: the review date 'next year' is not a date — write it as "
        "YYYY-MM-DD, like 2027-01-31"
    ]


def test_messages_yaml_that_cannot_be_read(root: Path) -> None:
    edit(root / "en/messages.yml", "  why: Why a second opinion?", "  why: [unclosed")
    assert found(root)[0].startswith("content/en/messages.yml:9: this is not valid YAML (")


def test_the_command_fails_on_errors(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(root / "en/faq/costs.md", "related: [delay]", "related: [nowhere]")
    assert check.main(["--content", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "content/en/faq/costs.md:13: the related topic 'nowhere' does not exist — use the id of "
        "an existing topic (its file name without .md)",
        "content check: 1 problem, 0 warnings. Fix the problems above; nothing is published "
        "until then.",
    ]


def test_a_message_written_twice(root: Path) -> None:
    edit(root / "en/messages.yml", "menu:\n", "ask_record: Again\nmenu:\n")
    assert found(root) == [
        "content/en/messages.yml:7: the message 'ask_record' is written twice — keep one: the "
        "other is at content/en/messages.yml:6"
    ]


def test_a_key_yaml_reads_as_a_yes_or_no(root: Path) -> None:
    """Unquoted, `yes:` is the boolean true: the message could never be found by its key."""
    edit(root / "en/messages.yml", "  why: Why", "  yes: Yes\n  why: Why")
    assert found(root)[0] == (
        "content/en/messages.yml:8: the key 'yes' of 'menu.yes' reads as True, not as a word — "
        'choose another word, or write it in quotes: "yes"'
    )


NLU_EN = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello
      - good morning
      - hi there
  - intent: thank
    examples: |
      - thanks
      - thank you
"""
NLU_FR = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - bonjour
  - intent: bye_bye
    examples: |
      - au revoir
"""


def test_every_intent_has_as_many_examples_in_each_language(root: Path) -> None:
    nlu = root.parent / "nlu"
    for language, text in {"en": NLU_EN, "fr": NLU_FR, "nl": NLU_EN}.items():
        (nlu / language).mkdir(parents=True)
        (nlu / language / "smalltalk.yml").write_text(text)
    problems = [str(problem) for problem in check.check(root, TODAY, nlu)]
    assert problems == [
        "nlu/fr/smalltalk.yml:1: the intent 'thank' has no examples — write at least 2, in this "
        "language's words, like those in nlu/en/smalltalk.yml:8",
        "nlu/fr/smalltalk.yml:3: the intent 'greet' has 1 examples; English has 3 "
        "(nlu/en/smalltalk.yml:3) — add at least 2 more ways patients say this",
        "nlu/fr/smalltalk.yml:6: the intent 'bye_bye' does not exist in English — remove it, or "
        "add it to nlu/en first",
    ]


def test_the_repositorys_nlu_examples_cover_every_language() -> None:
    problems = check.check(ROOT / "content", nlu=ROOT / "nlu")
    assert [str(p) for p in problems if not p.warning] == []

"""Reception's words live in templates/wording.<language>.yml, by code; its Python and its page
templates name only codes, and every language has every code, with the same data.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2 import meta, nodes

import reception
from reception import wording
from reception.models import GapIntent, TicketAction
from reception.pages import TEMPLATES, template_environment
from reception.wording import CodedError

PACKAGE = Path(reception.__file__).parent
# Not scanned: the migrations are frozen history, and the OpenAPI document's descriptions are
# the API's reference for developers, like docstrings.
UNSCANNED = {PACKAGE / "openapi.py"}
# Keywords whose strings are not for staff: argparse's help (operators read it with --help),
# the descriptions of the API's fields (developers read them in the OpenAPI document), and SQL.
NOT_WORDING_KEYWORDS = {"help", "description", "ondelete"}
# Strings that read like words but are meant for no member of staff.
NOT_WORDING = {
    "naive datetime given; use an aware UTC datetime",  # a programming mistake, for developers
    "no account has this password",  # hashed once to time logins without an account; never shown
}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Two words in a row (a lone "a" or "I" counts as a word): the mark of a sentence or a label.
WORDS = r"(?:[A-Za-z]{2,}|[aAI])"
PROSE = re.compile(rf"(?<![\w%-]){WORDS} {WORDS}(?![\w-])")
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+")
# A word the inbox's script fills in, in a label of a table: {reference}.
SCRIPT_PLACEHOLDER = re.compile(r"\{(\w+)\}")
TAG = re.compile(r"<[^>]*>")
DICT_METHODS = {"get", "items", "keys", "values"}


def sources() -> Iterator[Path]:
    """Every Python file of reception that runs in the service or its command line."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts and path not in UNSCANNED:
            yield path


def strings(node: ast.AST) -> Iterator[ast.Constant | ast.JoinedStr]:
    """Every string literal under a node, but docstrings, log calls and documenting keywords."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr):
        return  # a docstring, or a string standing alone
    if isinstance(node, ast.Call) and _is_log_call(node):
        return
    if isinstance(node, ast.keyword) and node.arg in NOT_WORDING_KEYWORDS:
        return
    if isinstance(node, ast.JoinedStr):
        yield node
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
        return
    for child in ast.iter_child_nodes(node):
        yield from strings(child)


def _is_log_call(call: ast.Call) -> bool:
    """Tell whether a call writes to a log: `logger.info(...)`, `logging.error(...)`."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in LOG_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id in {"logger", "logging"}
    )


def literal_text(node: ast.Constant | ast.JoinedStr) -> str:
    """The text of a string literal; an f-string's placeholders read as {}."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
    )


def prose_in_python() -> list[str]:
    """Where reception's Python holds words meant for people, as file:line: text."""
    found = []
    for path in sources():
        for node in strings(ast.parse(path.read_text(encoding="utf-8"))):
            text = literal_text(node)
            if PROSE.search(text) and text not in NOT_WORDING:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {text!r}")
    return found


def coded_errors() -> list[type[CodedError]]:
    """Every coded error class of reception, once each of its modules is imported."""
    for module in pkgutil.iter_modules(reception.__path__, "reception."):
        if module.name != "reception.migrations":
            importlib.import_module(module.name)
    found: list[type[CodedError]] = []
    pending = [CodedError]
    while pending:
        kind = pending.pop()
        found.extend(kind.__subclasses__())
        pending.extend(kind.__subclasses__())
    return found


def wording_calls() -> Iterator[tuple[str, str, set[str] | None]]:
    """Each call that names a code: what it calls, the code, and the data it hands over.

    The calls are to wording.text and wording.table, and to the coded errors; the data is None
    when it is handed over as a whole (**data).
    """
    callees = {"wording.text", "wording.table", *(kind.__name__ for kind in coded_errors())}
    for tree in trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in callees:
                continue
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = {keyword.arg for keyword in node.keywords}
                data = None if None in names else {name for name in names if name}
                yield _called(node), first.value, data


def codes_named_in_python() -> tuple[set[str], set[str]]:
    """The codes reception's Python names: of texts (calls and *_WORDING tables), of tables."""
    texts: set[str] = set()
    tables: set[str] = set()
    for callee, code, _ in wording_calls():
        (tables if callee == "wording.table" else texts).add(code)
    for tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _assigns_wording_table(node):
                assert isinstance(node.value, ast.Dict)
                texts.update(
                    value.value
                    for value in node.value.values
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                )
    return texts, tables


def trees() -> Iterator[ast.Module]:
    """The syntax tree of every scanned file."""
    for path in sources():
        yield ast.parse(path.read_text(encoding="utf-8"))


def _called(call: ast.Call) -> str:
    """The name a call is made by: 'wording.text', or 'TicketErased' for queries.TicketErased()."""
    func = call.func
    if isinstance(func, ast.Attribute):
        wording_call = isinstance(func.value, ast.Name) and func.value.id == "wording"
        return f"wording.{func.attr}" if wording_call else func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _assigns_wording_table(node: ast.Assign) -> bool:
    """Tell whether a statement builds a table of wording codes (a name ending in _WORDING)."""
    return isinstance(node.value, ast.Dict) and any(
        isinstance(target, ast.Name) and target.id.endswith("_WORDING") for target in node.targets
    )


def page_templates() -> Iterator[tuple[str, nodes.Template]]:
    """Every page template, by name, as jinja2 parses it."""
    environment = template_environment()
    for path in sorted(TEMPLATES.glob("*.html")):
        yield path.name, environment.parse(path.read_text(encoding="utf-8"))


def template_calls() -> Iterator[tuple[str, str, set[str] | None]]:
    """Each call of a page template that names a code: text(...) or table(...), as in Python."""
    for _, tree in page_templates():
        for call in tree.find_all(nodes.Call):
            if not isinstance(call.node, nodes.Name) or call.node.name not in {"text", "table"}:
                continue
            first = call.args[0] if call.args else None
            if isinstance(first, nodes.Const) and isinstance(first.value, str):
                data = None if call.dyn_kwargs else {keyword.key for keyword in call.kwargs}
                yield f"wording.{call.node.name}", first.value, data


def template_table_labels() -> Iterator[tuple[str, str, str]]:
    """Each label a template reads from a table it names: `{% set w = table("x") %}…{{ w.y }}`."""
    for name, tree in page_templates():
        tables: dict[str, str] = {}
        for assign in tree.find_all(nodes.Assign):
            call = assign.node
            if (
                isinstance(assign.target, nodes.Name)
                and isinstance(call, nodes.Call)
                and isinstance(call.node, nodes.Name)
                and call.node.name == "table"
                and isinstance(call.args[0], nodes.Const)
            ):
                tables[assign.target.name] = call.args[0].value
        for read in tree.find_all(nodes.Getattr):
            if read.attr in DICT_METHODS:
                continue  # states.get(code, code): a lookup, not a label
            if isinstance(read.node, nodes.Name) and read.node.name in tables:
                yield name, tables[read.node.name], read.attr


def prose_in_templates() -> list[str]:
    """Where a page template holds words of its own, outside its tags, as file: text."""
    found: list[str] = []
    for name, tree in page_templates():
        # The template's own text in order, each expression or tag of jinja2 as a gap.
        source = "\0".join(data.data for data in tree.find_all(nodes.TemplateData))
        for line in TAG.sub(" ", source).splitlines():
            found.extend(
                f"{name}: {part.strip()!r}" for part in line.split("\0") if PROSE.search(part)
            )
        for constant in tree.find_all(nodes.Const):  # {{ "Erased" if erased }}
            if isinstance(constant.value, str) and PROSE.search(constant.value):
                found.append(f"{name}: {constant.value!r}")
    return found


def data_named(source: str) -> set[str]:
    """The data a wording template names."""
    return set(meta.find_undeclared_variables(wording.ENVIRONMENT.parse(source)))


def test_reception_python_holds_no_sentence_for_people() -> None:
    assert prose_in_python() == [], "put the words in reception/templates/wording.en.yml"


def test_the_scan_finds_a_sentence_added_back() -> None:
    tree = ast.parse(
        'raise TicketChanged("Try again.")\n'
        'error = f"Write a note of 1 to {limit} characters."\n'
        'logger.info("reception listening on %s", url)\n'
        'ApiError(404, "ticket_not_found", wording.text("ticket_not_found"))\n'
    )
    found = [literal_text(node) for node in strings(tree) if PROSE.search(literal_text(node))]
    assert found == ["Try again.", "Write a note of 1 to {} characters."]


def test_every_error_code_has_its_wording() -> None:
    entries = wording.entries()
    texts = {code for code, entry in entries.items() if isinstance(entry, str)}
    class_codes = {kind.code for kind in coded_errors() if kind.code}
    assert class_codes, "no coded error found"
    assert class_codes - texts == set()
    named_texts, named_tables = codes_named_in_python()
    for callee, code, _ in template_calls():
        (named_tables if callee == "wording.table" else named_texts).add(code)
    assert named_texts - texts == set()
    assert named_tables - (set(entries) - texts) == set()


def test_the_templates_read_only_labels_their_tables_have() -> None:
    labels = list(template_table_labels())
    assert labels, "no template reads a table"
    for template, name, label in labels:
        entry = wording.entries()[name]
        assert isinstance(entry, dict), (template, name)
        assert label in entry, (template, name, label)


def test_the_templates_hold_no_sentence_for_people() -> None:
    assert prose_in_templates() == [], "put the words in reception/templates/wording.en.yml"


def test_every_wording_is_used_by_reception() -> None:
    literals = {literal_text(node) for tree in trees() for node in strings(tree)}
    literals |= {code for _, code, _ in template_calls()}
    assert set(wording.entries()) - literals == set()


def test_every_wording_is_a_template_or_a_table_of_labels() -> None:
    for code, entry in wording.entries().items():
        assert CODE.fullmatch(code), code
        if isinstance(entry, dict):
            assert all(isinstance(label, str) for label in entry.values()), code
            continue
        assert isinstance(entry, str), code
        try:
            wording.ENVIRONMENT.from_string(entry)
        except jinja2.TemplateSyntaxError as error:
            pytest.fail(f"{code}: {error}")


def test_each_call_hands_over_the_data_its_wording_names() -> None:
    texts = {code: entry for code, entry in wording.entries().items() if isinstance(entry, str)}
    for callee, code, given in [*wording_calls(), *template_calls()]:
        if callee == "wording.table" or given is None or code not in texts:
            continue  # data passed on as a whole; a missing code fails the test above
        assert data_named(texts[code]) <= given, code


@pytest.mark.parametrize("language", [code for code in wording.LANGUAGES if code != "en"])
def test_each_language_says_every_code_with_the_same_data(language: str) -> None:
    english, translated = wording.entries("en"), wording.entries(language)
    assert sorted(set(english) - set(translated)) == [], f"missing in wording.{language}.yml"
    assert sorted(set(translated) - set(english)) == [], "not in wording.en.yml"
    for code, entry in english.items():
        other = translated[code]
        if isinstance(entry, dict):
            assert isinstance(other, dict), code
            assert sorted(other) == sorted(entry), code
            for label, words in entry.items():
                assert isinstance(other[label], str), (code, label)
                in_english = set(SCRIPT_PLACEHOLDER.findall(words))
                assert set(SCRIPT_PLACEHOLDER.findall(other[label])) == in_english, (code, label)
            continue
        assert isinstance(other, str), code
        try:
            named = data_named(other)
        except jinja2.TemplateSyntaxError as error:
            pytest.fail(f"{language} {code}: {error}")
        assert named == data_named(entry), code


@pytest.mark.parametrize("language", wording.LANGUAGES)
def test_every_text_renders_in_every_language(language: str) -> None:
    with wording.speaking(language):
        assert wording.language() == language
        assert wording.text("age_minutes", count=4)
        assert set(wording.table("language_choices")) == set(wording.LANGUAGES)
        assert set(wording.table("language_names")) == set(wording.LANGUAGES)
    assert wording.language() == "en"


def test_the_browser_s_language_is_spoken_when_reception_has_it() -> None:
    assert wording.preferred_language("nl-BE,nl;q=0.9,en;q=0.8") == "nl"
    assert wording.preferred_language("de-DE, fr;q=0.5, en;q=0.4") == "fr"
    assert wording.preferred_language("en;q=0.2, fr-BE") == "fr"
    assert wording.preferred_language("de, es") == "en"
    assert wording.preferred_language("fr;q=0, nl;q=bad") == "en"
    assert wording.preferred_language(None) == "en"


def test_the_reason_tables_follow_the_vocabulary() -> None:
    assert set(wording.table("erasure_reasons")) <= {action.value for action in TicketAction}
    assert set(wording.table("gap_reasons")) == {intent.value for intent in GapIntent}


def test_a_coded_error_says_its_wording_with_its_data() -> None:
    error = CodedError("ticket_not_found", reference="SO-2026-00001")
    assert (error.code, error.data) == ("ticket_not_found", {"reference": "SO-2026-00001"})
    assert str(error) == wording.describe(error) == "No ticket has this reference."
    with pytest.raises(jinja2.UndefinedError):
        wording.text("password_too_short")


def test_a_coded_error_says_itself_in_english_for_the_logs() -> None:
    error = CodedError("ticket_not_found")
    with wording.speaking("fr"):
        assert wording.describe(error) != str(error)
        assert str(error) == "No ticket has this reference."

"""The documented variables of each message (contentlib.variables) match the code's own calls."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from actions import services
from actions.request_form import FORM, kind_of
from contentlib import ContentStore
from contentlib.variables import MESSAGE_VARIABLES, variables_of
from harness.stack import ROOT
from tests.actions.conftest import ANSWERED, TOKEN, make_tracker

# How each call names its message key: say(dispatcher, tracker, KEY, …), text(tracker, KEY, …)
# and content.text(KEY, language, …).
KEY_POSITION = {"say": 2, "text": 1}


@pytest.fixture(autouse=True)
def action_server_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The request form's code reads the content through the action server's settings."""
    monkeypatch.setenv("RECEPTION_API_TOKEN", TOKEN)
    services.settings.cache_clear()


def calls_with_variables() -> tuple[dict[str, set[str]], set[str]]:
    """The variables passed per literal message key in actions/, bot/ and reception's canned
    replies (a key built as f"group.{…}" counts for its group), and the keys that also get
    variables the scan cannot see (**spread); then those of the messages the request form's
    declaration names.
    """
    found: dict[str, set[str]] = defaultdict(set)
    spread: set[str] = set()
    # Reception renders the content's messages in one module; its own words are wording codes.
    sources = [*Path(ROOT, "actions").rglob("*.py"), *Path(ROOT, "bot").rglob("*.py")]
    for path in [
        *sources,
        *(Path(ROOT, "reception", name) for name in ("replies.py", "follow_ups.py")),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            key = _key_of(node)
            if key is None or not isinstance(node, ast.Call):
                continue
            names = {keyword.arg for keyword in node.keywords}
            if None in names:
                spread.add(key)
            found[key] |= {name for name in names if name not in (None, "buttons")}
    tracker = make_tracker(ANSWERED)
    for question in FORM.questions:
        kind = kind_of(question)
        found[question.ask] |= set(kind.ask_variables(question, tracker))
        for note in question.notes.values():
            found[note] |= set(kind.note_variables(question, tracker))
    return dict(found), spread


def _key_of(node: ast.AST) -> str | None:
    """The literal message key a call renders, if it is one of ours."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        position = KEY_POSITION.get(node.func.id)
    elif isinstance(node.func, ast.Attribute) and node.func.attr == "text":
        position = 0
    else:
        position = None
    if position is None or len(node.args) <= position:
        return None
    argument = node.args[position]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr) and isinstance(argument.values[0], ast.Constant):
        prefix = str(argument.values[0].value)
        return prefix.removesuffix(".") if prefix.endswith(".") else None
    return None


def test_the_scan_sees_the_calls() -> None:
    found, _ = calls_with_variables()
    assert found["handoff_done"] == {"reference", "department"}
    assert found["replies"] == {"name", "reference", "missing_records"}
    assert found["summary"] == {"answers"}
    assert found["summary_lines"] == {"value"}


def test_every_variable_the_code_passes_is_documented() -> None:
    found, spread = calls_with_variables()
    for key, names in found.items():
        if key in spread:
            assert names <= set(variables_of(key)), key
        else:
            assert names == set(variables_of(key)), key


def test_every_documented_message_exists_and_renders(content: ContentStore) -> None:
    found, _ = calls_with_variables()
    for key in MESSAGE_VARIABLES:
        assert key in found, f"{key} is documented but no code passes it variables"
        group = [name for name in content.messages("en") if name.startswith(f"{key}.")]
        for name in group or [key]:
            assert content.text(name, "en", **variables_of(name)).strip()

"""The documented variables of each message (contentlib.variables) match the code's own calls."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from contentlib import ContentStore
from contentlib.variables import MESSAGE_VARIABLES, variables_of
from harness.stack import ROOT

# How each call names its message key: say(dispatcher, tracker, KEY, …), text(tracker, KEY, …)
# and content.text(KEY, language, …).
KEY_POSITION = {"say": 2, "text": 1}


def calls_with_variables() -> tuple[dict[str, set[str]], set[str]]:
    """The variables passed per literal message key in actions/ and bot/, and the keys that
    also get variables the scan cannot see (**spread)."""
    found: dict[str, set[str]] = defaultdict(set)
    spread: set[str] = set()
    for path in [*Path(ROOT, "actions").rglob("*.py"), *Path(ROOT, "bot").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            key = _key_of(node)
            if key is None or not isinstance(node, ast.Call):
                continue
            names = {keyword.arg for keyword in node.keywords}
            if None in names:
                spread.add(key)
            found[key] |= {name for name in names if name not in (None, "buttons")}
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
    return None


def test_the_scan_sees_the_calls() -> None:
    found, spread = calls_with_variables()
    assert found["handoff_done"] == {"reference", "department"}
    assert "summary" in spread


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
        assert content.text(key, "en", **variables_of(key)).strip()

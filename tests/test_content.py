"""Every message the code names exists, and every message renders in every language."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from contentlib import ContentStore, UnknownKey
from harness.stack import ROOT
from requestform import declared

KEY_USES = re.compile(r"""(?:say\([^"]*|notice\(|\.text\()\s*f?"([a-z_.{}]+)\"""")
SAMPLE = {
    "reference": "SO-2026-00001",
    "department": "Breast Clinic",
    "phone": "+32 470 12 34 56",
    "name": "Marie Dupont",
    "state": "not yet",
    "contains": "reports",
    "how_to_get": "ask",
    "items": "- Blood results",
    "status": "in progress",
    "cancer_type": "Breast",
    "care_stage": "In treatment",
    "residence": "In Belgium",
    "records_list": "all",
    "email": "a@b.be",
    "preferred_time": "mornings",
    "answers": "- Name: Marie Dupont",
    "value": "Breast",
    "missing_records": "- Blood test results",
    "label": "Pathology reports",
    "link": "http://localhost:8000/records/kW3v_9xQe-Tz1LmNoPq2rS",
}


def keys_named_in_code() -> set[str]:
    """Message keys that actions/ and bot/ pass to the content store, and those the request
    form's declaration names (the form's code takes them from there).
    """
    keys: set[str] = set(declared().content_keys())
    for path in [*Path(ROOT, "actions").rglob("*.py"), *Path(ROOT, "bot").rglob("*.py")]:
        keys.update(KEY_USES.findall(path.read_text()))
    return {key for key in keys if "{" not in key}


def test_the_scan_finds_the_keys() -> None:
    """The scan itself works: it sees keys we know are used."""
    assert {"welcome", "ask_phone", "handoff_done", "unsupported_media"} <= keys_named_in_code()


def test_every_key_named_in_code_exists(content: ContentStore) -> None:
    """No action or channel names a message that editors have not written."""
    missing = sorted(key for key in keys_named_in_code() if not content.has(key))
    assert missing == []


@pytest.mark.parametrize("language", ["en"])
def test_every_message_renders_strictly(content: ContentStore, language: str) -> None:
    """Each template and FAQ answer renders; no variable is left undefined."""
    for key in content.messages(language):
        assert content.text(key, language, **SAMPLE).strip(), key
    for topic in content.topics(language):
        assert content.answer(topic, language).strip(), topic


def test_an_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    """A template using a variable nobody provides is an error, not a blank."""
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "messages.yml").write_text("hello: Hi {{ nobody }}\n")
    with pytest.raises(jinja2.UndefinedError):
        ContentStore(tmp_path).text("hello", "en")


def test_unknown_keys_and_languages(tmp_path: Path) -> None:
    """An unknown language falls back to English; an unknown key is an error."""
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "messages.yml").write_text("hello: Hi\n")
    (tmp_path / "reference.yml").write_text("centre: {name: {en: Centre, fr: Centre FR}}\n")
    store = ContentStore(tmp_path)
    assert store.text("hello", "de") == "Hi"
    assert store.reference("fr")["centre"]["name"] == "Centre FR"
    with pytest.raises(UnknownKey):
        store.text("nope", "en")

"""The browser tests' npm packages are pinned exactly: every set-up checks with the same axe."""

from __future__ import annotations

import json
import re

from harness.stack import ROOT

TOOLS = ROOT / "tests" / "browser_tools"


def test_axe_core_is_pinned_to_one_version_in_the_manifest_and_the_lock() -> None:
    manifest = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((TOOLS / "package-lock.json").read_text(encoding="utf-8"))
    wanted = manifest["dependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), "pin axe-core exactly, without a range"
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"]["node_modules/axe-core"]["version"] == wanted
    assert lock["packages"]["node_modules/axe-core"]["integrity"].startswith("sha512-")

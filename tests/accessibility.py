"""axe-core in the browser tests: checks the page at WCAG 2.2 AA and says what it found.

scripts/ensure-axe installs the version pinned in tests/browser_tools/package-lock.json.
"""

from __future__ import annotations

from typing import Any

import pytest
from selenium import webdriver

from harness.stack import ROOT

AXE_SCRIPT = ROOT / "tests" / "browser_tools" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then((results) => done(results.violations), (error) => done({error: String(error)}));
"""


def axe_violations(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """Run axe-core on the page at WCAG 2.2 AA and return its violations."""
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is needed: run `make test`, which installs it (scripts/ensure-axe)")
    browser.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    violations = browser.execute_async_script(RUN_AXE, list(WCAG_TAGS))
    assert isinstance(violations, list), violations
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """Say what axe found, a paragraph a rule: its id, impact, and each element with the fix."""
    return "\n".join(
        f"{each['id']} ({each['impact']}): {each['help']}\n"
        + "".join(f"  {node['target']}: {node['failureSummary']}\n" for node in each["nodes"])
        for each in violations
    )


def assert_accessible(browser: webdriver.Chrome) -> None:
    """Fail with axe's findings if the page has any WCAG 2.2 AA violation."""
    violations = axe_violations(browser)
    assert not violations, f"axe found on {browser.current_url}:\n{describe_violations(violations)}"

"""The reports page in headless Chromium: every chart is an SVG image that draws what its table
holds, and the page passes axe-core at WCAG 2.2 AA.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness.stack import Stack
from tests.accessibility import assert_accessible
from tests.e2e.staff import sign_in, ticket

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
pytest_plugins = ["tests.browser"]

EMAIL = "reports-test@example.org"
PASSWORD = "a long password for the reports test"
CHARTS = ("requests", "before_handoff", "funnel", "first_contact", "waiting", "complete", "gaps")
# Each bar as the browser lays it out: its label, its value and its drawn width.
READ_BARS = """
return Array.from(document.querySelectorAll(`#chart-${arguments[0]} g.bar`)).map((bar) => [
  bar.querySelector(".bar-label").textContent,
  bar.querySelector(".bar-value").textContent,
  bar.querySelector("rect").getBBox().width,
]);
"""
READ_TABLE = """
return Array.from(document.querySelectorAll(`#table-${arguments[0]} tbody tr`)).map((row) =>
  [row.cells[0].textContent, row.cells[1].textContent]);
"""


def test_the_charts_agree_with_their_tables_and_pass_axe(
    stack: Stack, browser: webdriver.Chrome, reception_api: httpx.Client
) -> None:
    for _ in range(2):
        created = reception_api.post("/api/v1/tickets", json=ticket("webchat", uuid.uuid4().hex))
        assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    moved = reception_api.patch(f"/api/v1/tickets/{reference}", json={"status": "in_progress"})
    assert moved.status_code == 200, moved.text
    stack.create_staff_user(EMAIL, PASSWORD, "reception")
    sign_in(browser, stack, EMAIL, PASSWORD)

    browser.find_element(By.LINK_TEXT, "Reports").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "chart-requests"))
    for chart in CHARTS:
        svg = browser.find_element(By.ID, f"chart-{chart}")
        assert svg.get_attribute("role") == "img"
        assert svg.is_displayed()
        drawn = browser.execute_script(READ_BARS, chart)
        rows = browser.execute_script(READ_TABLE, chart)
        assert [[label, value] for label, value, _ in drawn] == rows, chart
        largest = max(int(value) for _, value, _ in drawn)
        for _, value, width in drawn:
            if largest:
                assert width == pytest.approx(drawn_room(drawn) * int(value) / largest, abs=0.2)
    assert int(browser.execute_script(READ_TABLE, "requests")[-1][1]) >= 2  # this week's
    assert int(browser.execute_script(READ_TABLE, "funnel")[1][1]) >= 1
    assert_accessible(browser)


def drawn_room(drawn: list[list[object]]) -> float:
    """How wide the longest bar is drawn: the room every other bar is a share of."""
    return max(float(width) for _, _, width in drawn)  # type: ignore[arg-type]

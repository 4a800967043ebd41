"""Bar charts drawn on the server as SVG, to be read as images with a title and a description.

Each chart is one row per bar: its label on the left, the bar, then its value. The SVG has
`role="img"` and is labelled by its own `<title>` and `<desc>`, so a screen reader says what
the chart shows; the page puts a table of the same figures beside it. No script, no style
attribute (the page's CSP allows neither inline): the colours and fonts are presentation
attributes, which the stylesheet may override through the classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from markupsafe import Markup

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
WIDTH = 640
LABEL_WIDTH = 190  # room for the labels, right-aligned against the bars
VALUE_WIDTH = 60  # room for the value after the longest bar
ROW_HEIGHT = 28
BAR_HEIGHT = 18
MARGIN = 8
GAP = 6  # between a bar and its label or value
BAR_COLOUR = "#0b5cad"
INK = "#1d2330"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: what it counts and how many."""

    label: str
    value: int


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """Draw horizontal bars scaled to the largest value, as inline SVG markup."""
    height = 2 * MARGIN + ROW_HEIGHT * max(len(bars), 1)
    svg = ElementTree.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "id": chart_id,
            "class": "chart",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
        },
    )
    ElementTree.SubElement(svg, "title", {"id": f"{chart_id}-title"}).text = title
    ElementTree.SubElement(svg, "desc", {"id": f"{chart_id}-desc"}).text = description
    largest = max((bar.value for bar in bars), default=0)
    for row, bar in enumerate(bars):
        _draw(svg, MARGIN + row * ROW_HEIGHT, bar, bar_width(bar.value, largest))
    return Markup(ElementTree.tostring(svg, encoding="unicode"))


def bar_width(value: int, largest: int) -> float:
    """How wide a bar is drawn: its share of the largest value, over the room for bars."""
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH - GAP
    return round(room * value / largest, 1) if largest else 0.0


def _draw(svg: ElementTree.Element, top: int, bar: Bar, width: float) -> None:
    """Add one row to the chart: the label, the bar and the value."""
    group = ElementTree.SubElement(svg, "g", {"class": "bar"})
    middle = str(top + ROW_HEIGHT / 2)
    text = {"y": middle, "dominant-baseline": "middle", "fill": INK, "font-size": "14"}
    label = ElementTree.SubElement(
        group,
        "text",
        {**text, "class": "bar-label", "x": str(LABEL_WIDTH - GAP), "text-anchor": "end"},
    )
    label.text = bar.label
    ElementTree.SubElement(
        group,
        "rect",
        {
            "x": str(LABEL_WIDTH),
            "y": str(top + (ROW_HEIGHT - BAR_HEIGHT) / 2),
            "width": str(width),
            "height": str(BAR_HEIGHT),
            "fill": BAR_COLOUR,
        },
    )
    value = ElementTree.SubElement(
        group, "text", {**text, "class": "bar-value", "x": str(LABEL_WIDTH + width + GAP)}
    )
    value.text = str(bar.value)

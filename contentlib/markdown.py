"""The editors' Markdown subset, rendered for Telegram's HTML and for the web chat.

The subset: paragraphs (separated by a blank line), "- " bullet lists, **bold**, *italic*
(or _italic_), [links](https://…) and links to other topics, [text](faq:topic_id), which
are shown as plain text. A backslash escapes a marker: \\* stays a star. Everything else
is text, HTML-escaped, so no tag a patient or an editor types can reach a page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

EXTERNAL_SCHEMES = ("https://", "http://", "mailto:", "tel:")
_INLINE = re.compile(
    r"\\(?P<escaped>[\\*_\[\]()])"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|\*(?P<star>[^*\s](?:[^*]*[^*\s])?)\*"
    r"|(?<!\w)_(?P<under>[^_\s](?:[^_]*[^_\s])?)_(?!\w)"
    r"|\[(?P<label>[^\]]+)\]\((?P<target>[^)\s]+)\)"
)
_BULLET = re.compile(r"^\s*[-*] +")


@dataclass(frozen=True)
class Tags:
    """How one output format writes bold, italic and links."""

    bold: Callable[[str], str]
    italic: Callable[[str], str]
    link: Callable[[str, str], str]


def escape(text: str) -> str:
    """Escape the subset's markers, so that a patient's own words show as typed."""
    return re.sub(r"([\\*_\[\]()])", r"\\\1", text)


def _inline(text: str, tags: Tags) -> str:
    """Render bold, italic, links and escapes within one line."""
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        position = match.end()
        if match["escaped"]:
            out.append(html.escape(match["escaped"], quote=False))
        elif match["bold"]:
            out.append(tags.bold(_inline(match["bold"], tags)))
        elif match["star"] or match["under"]:
            out.append(tags.italic(_inline(match["star"] or match["under"], tags)))
        elif match["target"].startswith(EXTERNAL_SCHEMES):
            href = html.escape(match["target"], quote=True)
            out.append(tags.link(href, _inline(match["label"], tags)))
        else:
            out.append(_inline(match["label"], tags))
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """Split text into ("paragraph", [lines]) and ("list", [items]) blocks."""
    result: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            result.append(("list", [_BULLET.sub("", line) for line in lines]))
        else:
            result.append(("paragraph", lines))
    return result


_TELEGRAM = Tags(
    bold=lambda s: f"<b>{s}</b>",
    italic=lambda s: f"<i>{s}</i>",
    link=lambda href, label: f'<a href="{href}">{label}</a>',
)
_WEB = Tags(
    bold=lambda s: f"<strong>{s}</strong>",
    italic=lambda s: f"<em>{s}</em>",
    link=lambda href, label: (
        f'<a href="{href}" rel="noopener noreferrer" target="_blank">{label}</a>'
    ),
)
_PLAIN = Tags(bold=lambda s: s, italic=lambda s: s, link=lambda href, label: label)


def to_telegram_html(text: str) -> str:
    """Render for Telegram's HTML parse mode: lists become bullet lines."""
    parts = []
    for kind, lines in blocks(text):
        if kind == "list":
            parts.append("\n".join(f"• {_inline(item, _TELEGRAM)}" for item in lines))
        else:
            parts.append("\n".join(_inline(line, _TELEGRAM) for line in lines))
    return "\n\n".join(parts)


def to_web_html(text: str) -> str:
    """Render for the web chat: paragraphs and lists as HTML elements."""
    parts = []
    for kind, lines in blocks(text):
        if kind == "list":
            items = "".join(f"<li>{_inline(item, _WEB)}</li>" for item in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append("<p>" + "<br>".join(_inline(line, _WEB) for line in lines) + "</p>")
    return "".join(parts)


def to_plain_text(text: str) -> str:
    """Strip the markers, for transcripts."""
    parts = []
    for kind, lines in blocks(text):
        if kind == "list":
            parts.append("\n".join(f"- {_inline(item, _PLAIN)}" for item in lines))
        else:
            parts.append("\n".join(_inline(line, _PLAIN) for line in lines))
    return html.unescape("\n\n".join(parts))

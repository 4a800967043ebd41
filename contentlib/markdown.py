"""The editors' Markdown subset, rendered for Telegram's HTML and for the web chat.

The subset: paragraphs (separated by a blank line), "- " bullet lists, **bold**, *italic*
(or _italic_), [links](https://…) and links to other topics, [text](faq:topic_id), which
are shown as plain text. A backslash before a marker keeps it as text: a star stays a star.
Everything else is text, HTML-escaped, so no tag a patient or an editor types can reach a page.
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


@dataclass(frozen=True)
class Issue:
    """Something in an editor's text that the subset cannot show as meant."""

    line: int  # counted from 0, within the text
    what: str
    todo: str


_LINE_RULES = (
    (
        re.compile(r"^\s{0,3}#{1,6}(\s|$)"),
        "a heading ('# …') is not part of our Markdown",
        "write the heading in **bold** on a line of its own",
    ),
    (
        re.compile(r"^\s*\d+[.)]\s"),
        "a numbered list ('1. …') is not part of our Markdown",
        "use a '- ' bullet list",
    ),
    (
        re.compile(r"^\s*>"),
        "a quotation ('> …') is not part of our Markdown",
        "write it as a normal paragraph",
    ),
    (
        re.compile(r"^\s*\|.*\|\s*$"),
        "a table is not part of our Markdown",
        "write one '- ' bullet per row",
    ),
    (
        re.compile(r"^\s*(?:[-*_]\s*){3,}$"),
        "a horizontal line ('---') is not part of our Markdown",
        "leave a blank line between paragraphs instead",
    ),
    (
        re.compile(r"^\s*(```|~~~)"),
        "a code block is not part of our Markdown",
        "write it as plain text",
    ),
    (
        re.compile(r"^\s*\+\s"),
        "a '+' bullet is not part of our Markdown",
        "start each bullet with '- '",
    ),
    (
        re.compile(r"^\s{2,}[-*]\s"),
        "a nested list is not part of our Markdown",
        "keep lists to one level: start each bullet at the beginning of the line",
    ),
)
_INLINE_RULES = (
    (
        re.compile(r"!\[[^\]]*\]\([^)]*\)"),
        "an image is not part of our Markdown",
        "remove it: the assistant can only send text",
    ),
    (
        re.compile(r"<(?:https?|mailto|tel):[^>]*>"),
        "a link in angle brackets is not part of our Markdown",
        "write it as [text](https://…)",
    ),
    (
        re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"),
        "an HTML tag is not part of our Markdown",
        "use **bold**, *italic*, '- ' lists and [text](https://…) links instead",
    ),
    (
        re.compile(r"`"),
        "code ('`…`') is not part of our Markdown",
        "write it as plain text, in **bold** if it must stand out",
    ),
    (
        re.compile(r"~~"),
        "struck-through text ('~~…~~') is not part of our Markdown",
        "remove the '~~' marks",
    ),
    (
        re.compile(r"\[[^\]]+\]\[[^\]]*\]"),
        "a reference link ('[text][ref]') is not part of our Markdown",
        "write the address in the link itself: [text](https://…)",
    ),
)
_LINK = re.compile(r"(?<!!)\[(?P<label>[^\]]+)\](?P<gap>\s*)\((?P<target>[^)]*)(?P<close>\)?)")
_ESCAPED_STAR = re.compile(r"\\[*]")


def lint(text: str) -> list[Issue]:
    """Find what the subset does not support, line by line, and lists it cannot see."""
    issues: list[Issue] = []
    lines = text.split("\n")
    for number, line in enumerate(lines):
        issues.extend(
            Issue(number, what, todo) for rule, what, todo in _LINE_RULES if rule.search(line)
        )
        issues.extend(
            Issue(number, what, todo) for rule, what, todo in _INLINE_RULES if rule.search(line)
        )
        if _unclosed_star(line):
            issues.append(
                Issue(
                    number,
                    "a '*' is not closed, so it would show as a star",
                    "close it (**bold**, *italic*), or write \\* for a star",
                )
            )
    issues.extend(_glued_lists(lines))
    return sorted(issues, key=lambda issue: issue.line)


def links(text: str) -> list[tuple[int, str, str]]:
    """Every [label](target) of the text: its line (from 0), its target, and what is wrong."""
    found = []
    for number, line in enumerate(text.split("\n")):
        for match in _LINK.finditer(line):
            found.append((number, match["target"], _link_problem(match)))
    return found


def _link_problem(match: re.Match[str]) -> str:
    """Say what is wrong with the shape of one link, or nothing."""
    if match["gap"]:
        return "has a space between ']' and '('"
    if not match["close"]:
        return "has no closing ')'"
    if not match["target"].strip():
        return "has no address"
    if any(character.isspace() for character in match["target"]):
        return "has a space in its address"
    return ""


def _unclosed_star(line: str) -> bool:
    """Tell whether a star is left over once bold, italic, links and bullets are taken out."""
    rest = _ESCAPED_STAR.sub("", _BULLET.sub("", line, count=1))
    rest = _INLINE.sub("", rest)
    return "*" in rest


def _glued_lists(lines: list[str]) -> list[Issue]:
    """Lists without a blank line between them and the text around, which would not show."""
    issues: list[Issue] = []
    for number in range(1, len(lines)):
        previous, line = lines[number - 1], lines[number]
        if not previous.strip() or not line.strip():
            continue
        if _BULLET.match(line) and not _BULLET.match(previous):
            what, todo = "this list starts right under a line of text", "before the list"
        elif _BULLET.match(previous) and not _BULLET.match(line):
            what, todo = "this line of text follows a list directly", "after the list"
        else:
            continue
        issues.append(
            Issue(number, f"{what}, so the list would not show", f"leave a blank line {todo}")
        )
    return issues

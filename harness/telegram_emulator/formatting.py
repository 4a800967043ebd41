"""The checks Telegram makes on a message the bot sends, so that what it would refuse fails here
too: Telegram's HTML, the length limit, and inline keyboards with their callback data.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from harness.telegram_emulator.errors import JSONDict, NotEmulatedError, TelegramApiError

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
_HTML_TAGS = frozenset(
    [
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "tg-time",
        "u",
    ]
)
_INLINE_BUTTON_ACTIONS = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
]


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def _parse_error(message: str) -> TelegramApiError:
    """Return the API error for a text that could not be parsed."""
    return TelegramApiError(400, f"Bad Request: can't parse entities: {message}")


class _TelegramHtml(HTMLParser):
    """Extract the plain text of Telegram-flavoured HTML and note the first formatting error."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [i + 1 for i, char in enumerate(source) if char == "\n"]
        self.parts: list[str] = []
        self.open_tags: list[str] = []
        self.hrefs: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        """Remember the first error with the byte offset Telegram would report."""
        if self.error is None:
            line, column = self.getpos()
            offset = self._line_starts[line - 1] + column
            self.error = f"{message} at byte offset {len(self._source[:offset].encode())}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept the tags Telegram supports."""
        if tag in _HTML_TAGS:
            self.open_tags.append(tag)
            self.hrefs.extend(
                value for name, value in attrs if tag == "a" and name == "href" and value
            )
        else:
            self._fail(f'Unsupported start tag "{tag}"')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Reject self-closing tags such as ``<br/>``."""
        self._fail(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        """Require end tags to match the innermost open tag."""
        if self.open_tags and self.open_tags[-1] == tag:
            self.open_tags.pop()
        else:
            self._fail("Unexpected end tag")

    def handle_data(self, data: str) -> None:
        """Collect text."""
        self.parts.append(data)


def _parse_html(text: str) -> str:
    """Return the plain text of an HTML-formatted message, raising like the real API."""
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    if parser.error:
        raise _parse_error(parser.error)
    if parser.open_tags:
        raise _parse_error(
            f'Can\'t find end tag corresponding to start tag "{parser.open_tags[-1]}"'
        )
    return "".join(parser.parts)


def hrefs(text: Any, parse_mode: Any) -> list[str]:
    """The targets of the links (``<a href>``) of a message that ``plain_text`` accepted."""
    if not isinstance(text, str) or str(parse_mode or "").lower() != "html":
        return []
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    return parser.hrefs


def plain_text(text: Any, parse_mode: Any) -> str:
    """Check a message text as Telegram would and return what the patient reads."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    mode = str(parse_mode or "")
    if mode.lower() == "html":
        plain = _parse_html(text)
    elif mode:
        raise NotEmulatedError(400, f"Bad Request: the emulator does not check parse_mode {mode}")
    else:
        plain = text
    if not plain.strip():
        raise TelegramApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > TEXT_LIMIT:
        raise TelegramApiError(400, "Bad Request: message is too long")
    return plain


def message_markup(markup: Any) -> JSONDict | None:
    """Check a ``reply_markup`` as Telegram would; return the inline keyboard a Message shows."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise TelegramApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise TelegramApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup

"""Telegram's link-preview crawler: each link in a bot message sent with previews on is fetched,
as Telegram's servers fetch it to build the preview. A one-time link sent with previews on is
spent by the crawler before the patient taps it; a test sees it here.

Only links to this machine are fetched (a test must never reach the internet); any other link
is noted as seen and not fetched.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from harness.telegram_emulator.errors import JSONDict

USER_AGENT = "TelegramBot (like TwitterBot)"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_URL = re.compile(r"https?://[^\s<>\"']+")


def previews_disabled(params: JSONDict) -> bool:
    """Tell whether a sendMessage asked for no link preview (either of the API's two ways)."""
    options = params.get("link_preview_options")
    if isinstance(options, dict) and options.get("is_disabled") is True:
        return True
    return params.get("disable_web_page_preview") is True


def links_in(plain: str, hrefs: list[str]) -> list[str]:
    """The distinct links of a message: its <a href> targets, then the URLs in its text."""
    found = [*hrefs, *(match.rstrip(".,;:!?)") for match in _URL.findall(plain))]
    return list(dict.fromkeys(url for url in found if url.startswith(("http://", "https://"))))


@dataclass
class Crawler:
    """Fetch the links of messages sent with previews on, and remember every visit."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    visits: list[JSONDict] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def visit(self, seq: int, links: list[str]) -> None:
        """Note each link of the message numbered `seq`, and fetch those on this machine.

        Called on the emulator's event loop, as the message is sent.
        """
        for url in links:
            local = urlsplit(url).hostname in LOCAL_HOSTS
            visit: JSONDict = {"seq": seq, "url": url, "fetched": local, "status": None}
            with self.lock:
                self.visits.append(visit)
            if local:
                task = asyncio.get_running_loop().create_task(self._fetch(visit))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _fetch(self, visit: JSONDict) -> None:
        """GET a link as Telegram's crawler does; note the status (0 when nothing answered)."""
        status: Any = 0
        try:
            async with (
                aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session,
                session.get(visit["url"], timeout=aiohttp.ClientTimeout(total=10)) as response,
            ):
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError):
            status = 0
        with self.lock:
            visit["status"] = status

    def seen(self) -> list[JSONDict]:
        """Copies of every visit so far (``status`` is None while a fetch is under way)."""
        with self.lock:
            return [dict(visit) for visit in self.visits]

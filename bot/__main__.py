"""Run the bot: `python -m bot`."""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.app import create_app
from bot.settings import Settings, SettingsError


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Log method, path and status; never query strings (they carry web chat session ids)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one line per request."""
        self.logger.info("%s %s %d %.3fs", request.method, request.path, response.status, time)


def main() -> int:
    """Start the web chat and, when configured, Telegram; refuse to start misconfigured."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # A RetryAfter is not an error here: the outbox waits it out and logs a warning.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        logging.getLogger("bot").error("%s", error)
        return 2
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

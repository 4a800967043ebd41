"""Run the bot: `python -m bot`."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings


def main() -> None:
    """Start the web chat and, when configured, Telegram."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


if __name__ == "__main__":
    main()

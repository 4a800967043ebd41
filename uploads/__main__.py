"""Command line: `python -m uploads` runs the patients' upload service until interrupted."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from .access_log import TokenlessAccessLogger
from .app import create_app
from .settings import Settings, SettingsError

logger = logging.getLogger("uploads")


def main() -> int:
    """Read the settings and serve the upload page and its tus endpoint."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        logger.error("%s", error)
        return 2
    logger.info(
        "uploads listening on http://%s:%d (files kept in %s until reception has them)",
        settings.host,
        settings.port,
        settings.uploads_dir,
    )
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=TokenlessAccessLogger,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

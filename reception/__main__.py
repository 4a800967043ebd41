"""Command line: `python -m reception [serve]` runs the service, `migrate` upgrades the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiohttp import web
from sqlalchemy.engine import make_url

from .app import create_app
from .db import create_engine
from .migrate import upgrade
from .settings import Settings, SettingsError, database_url_from_env

logger = logging.getLogger("reception")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m reception", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return migrate() if args.command == "migrate" else serve()
    except SettingsError as exc:
        logger.error("%s", exc)
        return 2


def serve() -> int:
    """Run the web service until interrupted."""
    settings = Settings.from_env()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logger.info(
        "reception listening on http://%s:%d (database: %s, migrate on start: %s)",
        settings.host,
        settings.port,
        make_url(settings.database_url).get_backend_name(),
        settings.migrate_on_start,
    )
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0


def migrate() -> int:
    """Upgrade the database to the latest revision."""
    asyncio.run(_upgrade_to_head(database_url_from_env()))
    logger.info("reception database is at the latest revision")
    return 0


async def _upgrade_to_head(url: str) -> None:
    """Open the database, upgrade it, and close it."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

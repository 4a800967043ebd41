"""Command line: `python -m reception [serve]` runs the service, `migrate` upgrades the database,
`purge` erases the personal data of tickets past their retention period (for cron), `remind`
sends the patients' reminders that are due (as if it were `--as-of`, for operators and tests),
and `create-user` creates a staff account (the first admin, for instance).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import make_url

from contentlib import ContentStore

from . import accounts, wording
from .access_log import PathOnlyAccessLogger
from .app import create_app
from .bot_client import BotClient
from .db import create_engine, create_sessionmaker
from .follow_ups import FollowUpPeriodUnknown, remind_once
from .migrate import upgrade_all
from .models import StaffRole
from .passwords import WeakPassword, check_strength
from .retention import RetentionPeriodUnknown, purge_once
from .schemas import StaffEmail
from .settings import PurgeSettings, Settings, SettingsError, database_url_from_env
from .wording import CodedError

logger = logging.getLogger("reception")


class UsageError(CodedError):
    """The command line asks for something that cannot be done."""


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "migrate":
            return migrate()
        if args.command == "purge":
            return purge()
        if args.command == "remind":
            return remind(args.as_of)
        if args.command == "create-user":
            return create_user(args)
        return serve()
    except (
        SettingsError,
        UsageError,
        RetentionPeriodUnknown,
        FollowUpPeriodUnknown,
        WeakPassword,
        accounts.AccountExists,
    ) as exc:
        logger.error("%s", exc)
        return 2


def _parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    parser = argparse.ArgumentParser(prog="python -m reception", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the web service (the default)")
    commands.add_parser("migrate", help="upgrade the database to the latest revision")
    commands.add_parser(
        "purge", help="erase the personal data of tickets past their retention period, once"
    )
    remind = commands.add_parser(
        "remind", help="send the reminders of missing records that are due, once"
    )
    remind.add_argument(
        "--as-of",
        default=None,
        help="run as if it were then, e.g. 2027-01-15T10:00 (business calendar's zone)",
    )
    create = commands.add_parser("create-user", help="create a staff account")
    create.add_argument("--email", required=True, help="the account's e-mail, used to log in")
    create.add_argument(
        "--role", required=True, choices=[role.value for role in StaffRole], help="what it may do"
    )
    create.add_argument("--name", default=None, help="the person's name (optional)")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )
    return parser


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
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )
    return 0


def migrate() -> int:
    """Upgrade the database to the latest revision."""
    asyncio.run(_upgrade_to_head(database_url_from_env()))
    logger.info("reception database is at the latest revision")
    return 0


def purge() -> int:
    """Run one retention pass and print how many tickets it purged."""
    settings = PurgeSettings.from_env()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    purged = asyncio.run(_purge(settings))
    print(wording.text("cli_purged", count=purged))
    return 0


def remind(as_of: str | None) -> int:
    """Run one pass of the patients' reminders and print how many went out."""
    settings = Settings.from_env()
    moment = None if as_of is None else _moment(as_of, settings.follow_ups.calendar.zone)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    reminded = asyncio.run(_remind(settings, moment))
    print(wording.text("cli_reminded", count=reminded))
    return 0


def _moment(raw: str, zone: str) -> datetime:
    """Read --as-of: an ISO 8601 date and time, in the calendar's zone unless it has an offset."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UsageError("cli_bad_moment", zone=zone, value=raw) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def create_user(args: argparse.Namespace) -> int:
    """Create a staff account, migrating the database first."""
    email = _checked_email(args.email)
    password = _read_password(from_stdin=args.password_stdin)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    asyncio.run(
        _create_user(database_url_from_env(), email, password, StaffRole(args.role), args.name)
    )
    logger.info("created a staff account with the %s role", args.role)
    return 0


def _checked_email(raw: str) -> str:
    """Return a valid, lower-cased e-mail address, or raise UsageError."""
    try:
        return TypeAdapter(StaffEmail).validate_python(raw.strip())
    except ValidationError:
        raise UsageError("cli_bad_email") from None


def _read_password(*, from_stdin: bool) -> str:
    """Read the new password from standard input or from two prompts."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(wording.text("cli_password_prompt"))
        if getpass.getpass(wording.text("cli_password_again")) != password:
            raise UsageError("cli_passwords_differ")
    check_strength(password)
    return password


async def _create_user(
    url: str, email: str, password: str, role: StaffRole, name: str | None
) -> None:
    """Open the database, upgrade it, create the account, and close it."""
    engine = create_engine(url)
    try:
        await upgrade_all(engine)
        async with create_sessionmaker(engine)() as session:
            await accounts.create_user(session, email, password, role, name)
    finally:
        await engine.dispose()


async def _purge(settings: PurgeSettings) -> int:
    """Open the database, upgrade it, purge what retention allows, and close it."""
    store = ContentStore(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_all(engine)
        purged = await purge_once(create_sessionmaker(engine), settings.retention_days, store)
    finally:
        await engine.dispose()
    return len(purged)


async def _remind(settings: Settings, as_of: datetime | None) -> int:
    """Open the database, upgrade it, send the reminders due, and close it."""
    store = ContentStore(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_all(engine)
        async with aiohttp.ClientSession() as session:
            bot = BotClient(
                settings.bot_url, settings.api_token, session, settings.bot_timeout_seconds
            )
            reminded = await remind_once(
                create_sessionmaker(engine), bot, store, settings.follow_ups, as_of
            )
    finally:
        await engine.dispose()
    return len(reminded)


async def _upgrade_to_head(url: str) -> None:
    """Open the database, upgrade it, and close it."""
    engine = create_engine(url)
    try:
        await upgrade_all(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

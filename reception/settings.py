"""Settings for the reception service, read from the environment in one place."""

from __future__ import annotations

import base64
import binascii
import math
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import envreader as read
from sqlengine import normalise_url as normalise_database_url

from .attachments import RecordLimits
from .follow_ups import FollowUpPolicy
from .service_levels import BusinessCalendar, ServiceLevels
from .virus_scan import DEFAULT_TIMEOUT_SECONDS as DEFAULT_SCAN_TIMEOUT_SECONDS
from .virus_scan import ClamdAddress
from .wording import CodedError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/reception.db"
BOT_PORT = 8000  # where the bot listens unless BOT_URL or BOT_PORT says otherwise
RASA_PORT = 5005  # where Rasa listens unless RASA_URL or RASA_PORT says otherwise
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
DEFAULT_FILES_DIR = Path(__file__).resolve().parent.parent / "var" / "records"
FILES_KEY_BYTES = 32
MIN_SESSION_SECRET_LENGTH = 16
MAX_RETENTION_DAYS = 36_500
# The wording of each of the environment reader's codes.
_WORDINGS = {
    "too_short": "variable_too_short",
    "not_url": "variable_not_url",
    "not_port": "variable_not_port",
    "not_whole_number": "variable_not_whole_number",
    "not_byte_count": "variable_not_byte_count",
    "not_days": "variable_not_days",
    "not_seconds": "variable_not_seconds",
    "not_flag": "variable_not_flag",
}
# What to say when a secret is missing: what it is for.
_MISSING = {
    "RECEPTION_API_TOKEN": "variable_token_missing",
    "RECEPTION_SESSION_SECRET": "variable_secret_missing",
}


def default_instance_name() -> str:
    """This process's name in the outbox's leases, unless RECEPTION_INSTANCE_NAME names it."""
    return f"reception@{socket.gethostname()}"


class SettingsError(CodedError, ValueError):
    """A setting is missing or has a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the reception process needs to know about its surroundings."""

    api_token: str
    session_secret: str
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    migrate_on_start: bool = True
    bot_url: str = read.loopback(BOT_PORT)
    bot_timeout_seconds: float = 10.0
    delivery_wait_seconds: float = 5.0  # how long staff wait for the bot before "queued"
    instance_name: str = field(default_factory=lambda: default_instance_name())
    secure_cookies: bool = False
    session_hours: int = 12
    content_dir: Path = DEFAULT_CONTENT_DIR
    rasa_url: str = read.loopback(RASA_PORT)
    rasa_api_token: str = ""
    rasa_timeout_seconds: float = 10.0
    clamd_socket: str | None = None  # None: files are not scanned, and stay "pending"
    clamd_timeout_seconds: float = DEFAULT_SCAN_TIMEOUT_SECONDS
    retention_days: int | None = None  # None: the period the privacy notice promises
    retention_interval_seconds: float = 3600.0
    login_attempts_per_email: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 900
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    follow_ups: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    files_dir: Path = DEFAULT_FILES_DIR
    files_key: bytes | None = None  # None: derived from the session secret
    records: RecordLimits = field(default_factory=RecordLimits)

    def __post_init__(self) -> None:
        """Refuse values that cannot work, whoever built the settings."""
        if not self.api_token:
            raise SettingsError("api_token_empty")
        if len(self.session_secret) < MIN_SESSION_SECRET_LENGTH:
            raise SettingsError("session_secret_short", minimum=MIN_SESSION_SECRET_LENGTH)
        check_retention_days(self.retention_days)
        if not 0 < self.retention_interval_seconds < math.inf:
            raise SettingsError("retention_interval_invalid")
        if self.clamd_socket is not None:
            check_clamd_socket(self.clamd_socket)
        if not 0 < self.clamd_timeout_seconds < math.inf:
            raise SettingsError("clamd_timeout_invalid")
        for value in (
            self.login_attempts_per_email,
            self.login_attempts_per_address,
            self.login_window_seconds,
        ):
            if value < 1:
                raise SettingsError("login_limits_invalid")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from the environment (or the given mapping)."""
        env = os.environ if environ is None else environ
        with _in_reception_words():
            return cls(
                api_token=read.secret(env, "RECEPTION_API_TOKEN"),
                session_secret=read.secret(
                    env, "RECEPTION_SESSION_SECRET", minimum=MIN_SESSION_SECRET_LENGTH
                ),
                database_url=database_url_from_env(env),
                host=read.text(env, "RECEPTION_HOST", cls.host),
                port=read.port(env, "RECEPTION_PORT", cls.port),
                migrate_on_start=read.flag(env, "RECEPTION_MIGRATE_ON_START", cls.migrate_on_start),
                bot_url=read.local_url(env, "BOT_URL", "BOT_PORT", BOT_PORT),
                delivery_wait_seconds=read.seconds(
                    env, "RECEPTION_DELIVERY_WAIT_SECONDS", cls.delivery_wait_seconds
                ),
                instance_name=read.text(env, "RECEPTION_INSTANCE_NAME", default_instance_name()),
                secure_cookies=read.flag(env, "RECEPTION_SECURE_COOKIES", cls.secure_cookies),
                content_dir=content_dir_from_env(env),
                rasa_url=read.local_url(env, "RASA_URL", "RASA_PORT", RASA_PORT),
                rasa_api_token=read.text(env, "RASA_API_TOKEN", cls.rasa_api_token),
                clamd_socket=read.optional(env, "RECEPTION_CLAMD_SOCKET"),
                clamd_timeout_seconds=read.seconds(
                    env, "RECEPTION_CLAMD_TIMEOUT_SECONDS", cls.clamd_timeout_seconds
                ),
                retention_days=retention_days_from_env(env),
                retention_interval_seconds=read.seconds(
                    env, "RECEPTION_RETENTION_INTERVAL_SECONDS", cls.retention_interval_seconds
                ),
                login_attempts_per_email=read.whole_number(
                    env, "RECEPTION_LOGIN_ATTEMPTS_PER_EMAIL", cls.login_attempts_per_email
                ),
                login_attempts_per_address=read.whole_number(
                    env, "RECEPTION_LOGIN_ATTEMPTS_PER_ADDRESS", cls.login_attempts_per_address
                ),
                login_window_seconds=read.whole_number(
                    env, "RECEPTION_LOGIN_WINDOW_SECONDS", cls.login_window_seconds
                ),
                service_levels=(levels := service_levels_from_env(env)),
                follow_ups=follow_ups_from_env(env, levels.calendar),
                files_dir=Path(read.text(env, "RECEPTION_FILES_DIR", str(DEFAULT_FILES_DIR))),
                files_key=files_key_from_env(env),
                records=record_limits_from_env(env),
            )


@dataclass(frozen=True)
class PurgeSettings:
    """What `python -m reception purge` needs: the database, the content and the period."""

    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    retention_days: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PurgeSettings:
        """Build the settings from the environment (or the given mapping); no token needed."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=database_url_from_env(env),
            content_dir=content_dir_from_env(env),
            retention_days=retention_days_from_env(env),
        )


def check_retention_days(days: int | None) -> None:
    """Refuse a retention period that is not a whole number of days from 1 to 36500."""
    if days is None:
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise SettingsError("retention_days_invalid", maximum=MAX_RETENTION_DAYS, value=days)


def check_clamd_socket(address: str) -> None:
    """Refuse a clamd address that is neither a unix socket's path nor tcp://host:port."""
    try:
        ClamdAddress.parse(address)
    except ValueError:
        raise SettingsError("clamd_socket_invalid", value=address) from None


def retention_days_from_env(environ: Mapping[str, str] | None = None) -> int | None:
    """Return RECEPTION_RETENTION_DAYS, or None to follow the privacy notice."""
    env = os.environ if environ is None else environ
    with _in_reception_words():
        return read.days(env, "RECEPTION_RETENTION_DAYS", None, maximum=MAX_RETENTION_DAYS)


def service_levels_from_env(env: Mapping[str, str]) -> ServiceLevels:
    """Read the service-level targets and the business calendar they are counted in."""
    hours = read.text(env, "RECEPTION_BUSINESS_HOURS", _hours(BusinessCalendar()))
    zone = read.text(env, "RECEPTION_TIMEZONE", BusinessCalendar.zone)
    country = read.text(env, "RECEPTION_HOLIDAYS", BusinessCalendar.country)
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in hours.split("-"))
        calendar = BusinessCalendar(zone=zone, opens=opens, closes=closes, country=country)
    except (ValueError, LookupError, NotImplementedError):
        raise SettingsError(
            "business_calendar_invalid", hours=hours, zone=zone, country=country
        ) from None
    with _in_reception_words():
        return ServiceLevels(
            first_contact_days=read.whole_number(
                env, "RECEPTION_FIRST_CONTACT_DAYS", ServiceLevels.first_contact_days
            ),
            records_decision_days=read.whole_number(
                env, "RECEPTION_RECORDS_DECISION_DAYS", ServiceLevels.records_decision_days
            ),
            calendar=calendar,
        )


def follow_ups_from_env(env: Mapping[str, str], calendar: BusinessCalendar) -> FollowUpPolicy:
    """Read how often and how many times patients are reminded of missing records."""
    with _in_reception_words():
        return FollowUpPolicy(
            every_days=read.days(
                env, "RECEPTION_FOLLOW_UP_DAYS", FollowUpPolicy.every_days, maximum=365
            ),
            most=read.whole_number(env, "RECEPTION_FOLLOW_UPS", FollowUpPolicy.most),
            calendar=calendar,
        )


def record_limits_from_env(env: Mapping[str, str]) -> RecordLimits:
    """Read how much a patient may send, and how long an upload link lives."""
    with _in_reception_words():
        return RecordLimits(
            file_bytes=read.byte_count(env, "RECEPTION_MAX_FILE_BYTES", RecordLimits.file_bytes),
            request_bytes=read.byte_count(
                env, "RECEPTION_MAX_REQUEST_BYTES", RecordLimits.request_bytes
            ),
            link_days=read.days(
                env, "RECEPTION_UPLOAD_LINK_DAYS", RecordLimits.link_days, maximum=90
            )
            or RecordLimits.link_days,
        )


def files_key_from_env(env: Mapping[str, str]) -> bytes | None:
    """Read RECEPTION_FILES_KEY: 32 bytes in URL-safe base64, or None to derive one."""
    raw = read.optional(env, "RECEPTION_FILES_KEY")
    if raw is None:
        return None
    try:
        key = base64.urlsafe_b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4))
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != FILES_KEY_BYTES:
        raise SettingsError("files_key_invalid", length=FILES_KEY_BYTES)
    return key


def _hours(calendar: BusinessCalendar) -> str:
    """Say a calendar's opening hours the way RECEPTION_BUSINESS_HOURS does: 09:00-17:00."""
    return f"{calendar.opens:%H:%M}-{calendar.closes:%H:%M}"


def content_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """Return CONTENT_DIR, or the repository's content folder."""
    env = os.environ if environ is None else environ
    return Path(read.text(env, "CONTENT_DIR", str(DEFAULT_CONTENT_DIR)))


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return the normalised DATABASE_URL, or the embedded SQLite default."""
    env = os.environ if environ is None else environ
    return normalise_database_url(read.text(env, "DATABASE_URL", DEFAULT_DATABASE_URL))


@contextmanager
def _in_reception_words() -> Iterator[None]:
    """Turn the reader's errors into reception's, whose words are in the wording file."""
    try:
        yield
    except read.EnvError as error:
        if error.code == "missing":
            raise SettingsError(_MISSING[error.data["name"]], **error.data) from None
        raise SettingsError(_WORDINGS[error.code], **error.data) from None

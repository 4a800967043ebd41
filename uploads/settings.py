"""The upload service's settings: the only place in uploads/ that reads the environment."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import envreader as read

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where reception listens unless RECEPTION_URL or RECEPTION_PORT says otherwise.
RECEPTION_PORT = 8080
FILES_KEY_BYTES = 32
MIB = 1024 * 1024
GIB = 1024 * MIB


class SettingsError(ValueError):
    """A setting is missing or has a value the upload service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where patients reach the upload page, where reception is, and how much a request holds."""

    reception_api_token: str
    host: str = "127.0.0.1"
    port: int = 8090
    reception_url: str = read.loopback(RECEPTION_PORT)
    reception_timeout_seconds: float = 10.0
    uploads_dir: Path = PROJECT_ROOT / "var" / "uploads"
    max_file_bytes: int = 500 * MIB
    max_request_bytes: int = 2 * GIB
    content_dir: Path = PROJECT_ROOT / "content"
    link_cache_seconds: float = 5.0  # how long reception's word on a link is believed
    keep_partial_days: float = 7.0  # an upload nobody finishes is deleted after this
    housekeeping_interval_seconds: float = 600.0
    files_key: bytes | None = None  # None: derived from the service token

    def __post_init__(self) -> None:
        """Refuse to run without reception's token or with limits that cannot hold a file."""
        if not self.reception_api_token:
            raise SettingsError(
                "RECEPTION_API_TOKEN is not set. Set it to reception's API token: the upload "
                "service checks the patients' links and hands their files to reception with it."
            )
        if self.files_key is not None and len(self.files_key) != FILES_KEY_BYTES:
            raise SettingsError(
                "UPLOADS_FILES_KEY must be 32 bytes in URL-safe base64 "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        if self.max_file_bytes > self.max_request_bytes:
            raise SettingsError(
                "UPLOADS_MAX_FILE_BYTES is larger than UPLOADS_MAX_REQUEST_BYTES: "
                "one file cannot be larger than all of a request's files together."
            )

    @property
    def key_for_files(self) -> bytes:
        """The key that encrypts unfinished uploads on disk: UPLOADS_FILES_KEY, or one derived
        from the service token (then a new token makes the uploads under way start again).
        """
        if self.files_key is not None:
            return self.files_key
        secret = self.reception_api_token.encode()
        return hmac.new(secret, b"uploads: files waiting on disk", hashlib.sha256).digest()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from environment variables, with local defaults."""
        env = os.environ if environ is None else environ
        try:
            return cls(
                reception_api_token=read.text(env, "RECEPTION_API_TOKEN", ""),
                host=read.text(env, "UPLOADS_HOST", cls.host),
                port=read.port(env, "UPLOADS_PORT", cls.port),
                reception_url=read.local_url(
                    env, "RECEPTION_URL", "RECEPTION_PORT", RECEPTION_PORT
                ),
                reception_timeout_seconds=read.seconds(
                    env, "RECEPTION_TIMEOUT_SECONDS", cls.reception_timeout_seconds
                ),
                uploads_dir=Path(read.text(env, "UPLOADS_DIR", str(cls.uploads_dir))),
                max_file_bytes=read.byte_count(env, "UPLOADS_MAX_FILE_BYTES", cls.max_file_bytes),
                max_request_bytes=read.byte_count(
                    env, "UPLOADS_MAX_REQUEST_BYTES", cls.max_request_bytes
                ),
                content_dir=Path(read.text(env, "CONTENT_DIR", str(cls.content_dir))),
                link_cache_seconds=read.seconds(
                    env, "UPLOADS_LINK_CACHE_SECONDS", cls.link_cache_seconds
                ),
                keep_partial_days=read.number(
                    env, "UPLOADS_KEEP_PARTIAL_DAYS", cls.keep_partial_days
                ),
                housekeeping_interval_seconds=read.seconds(
                    env, "UPLOADS_HOUSEKEEPING_INTERVAL_SECONDS", cls.housekeeping_interval_seconds
                ),
                files_key=_files_key(read.optional(env, "UPLOADS_FILES_KEY")),
            )
        except read.EnvError as error:
            raise SettingsError(str(error)) from None


def _files_key(raw: str | None) -> bytes | None:
    """Decode UPLOADS_FILES_KEY (URL-safe base64), or None when it is unset."""
    if raw is None:
        return None
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise SettingsError("UPLOADS_FILES_KEY must be URL-safe base64.") from None

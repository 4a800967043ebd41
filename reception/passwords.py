"""Password hashing for staff accounts, with argon2id."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .wording import CodedError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): about 40 ms on a small server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class WeakPassword(CodedError, ValueError):
    """A new password that is too short or too long."""


def check_strength(password: str) -> None:
    """Refuse passwords that are too short to resist guessing, or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword("password_too_long", maximum=MAX_PASSWORD_LENGTH)


async def hash_password(password: str) -> str:
    """Hash a new password, off the event loop."""
    check_strength(password)
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash (or a dummy one, to take the same time)."""
    stored = password_hash or _dummy_hash()
    try:
        await asyncio.to_thread(_hasher.verify, stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


@cache
def _dummy_hash() -> str:
    """Return a hash to verify against when the account does not exist."""
    return _hasher.hash("no account has this password")

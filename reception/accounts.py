"""Query functions for staff accounts and their signed-in sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import StaffRole, StaffSession, StaffUser, utcnow
from .passwords import hash_password, verify_password
from .wording import DEFAULT_LANGUAGE, CodedError, checked_language


class AccountExists(CodedError, ValueError):
    """Another account already has this e-mail."""

    code = "account_exists"


class AccountNotFound(CodedError, LookupError):
    """No account has the given id."""

    code = "account_not_found"


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A new sign-in: the secret token for the cookie, and the stored session."""

    token: str
    session: StaffSession


async def create_user(
    session: AsyncSession,
    email: str,
    password: str,
    role: StaffRole,
    name: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> StaffUser:
    """Create an active staff account, or raise AccountExists (or UnknownLanguage)."""
    user = StaffUser(
        email=email.strip().lower(),
        name=name,
        role=role.value,
        language=checked_language(language),
        password_hash=await hash_password(password),
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise AccountExists() from exc
    return user


async def list_users(session: AsyncSession) -> list[StaffUser]:
    """Return every account, active first, by e-mail."""
    users = await session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)
    )
    return list(users)


async def get_user(session: AsyncSession, user_id: int) -> StaffUser:
    """Return one account by id, or raise AccountNotFound."""
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise AccountNotFound()
    return user


async def set_active(session: AsyncSession, user_id: int, active: bool) -> StaffUser:
    """Activate or deactivate an account; deactivation also signs it out everywhere."""
    user = await get_user(session, user_id)
    user.active = active
    if not active:
        await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    await session.commit()
    return user


async def set_language(session: AsyncSession, user_id: int, language: str) -> StaffUser:
    """Choose the language reception speaks to an account, or raise UnknownLanguage."""
    checked_language(language)
    user = await get_user(session, user_id)
    user.language = language
    await session.commit()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffUser | None:
    """Return the active account with this e-mail and password, or None."""
    user = await session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    hashed = user.password_hash if user is not None and user.active else None
    if not await verify_password(hashed, password):
        return None
    return user


async def open_session(session: AsyncSession, user: StaffUser, hours: int) -> OpenedSession:
    """Sign an account in: store a new session and return its secret token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    stored = StaffSession(
        id=session_id(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    user.last_login_at = now
    session.add(stored)
    await session.commit()
    return OpenedSession(token=token, session=stored)


async def find_session(session: AsyncSession, token: str) -> StaffSession | None:
    """Return the live session of an active account for a token, or None."""
    stored = await session.get(StaffSession, session_id(token))
    if stored is None or stored.expires_at <= utcnow() or not stored.user.active:
        return None
    return stored


async def close_session(session: AsyncSession, token: str) -> None:
    """Sign a session out."""
    await session.execute(delete(StaffSession).where(StaffSession.id == session_id(token)))
    await session.commit()


def session_id(token: str) -> str:
    """Return the stored id of a session token (its SHA-256), so a database leak signs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()

"""Engine and session factories for the reception database (the engine is the project's own)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sqlengine import create_engine

__all__ = ["create_engine", "create_sessionmaker"]


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory used by request handlers."""
    return async_sessionmaker(engine, expire_on_commit=False)

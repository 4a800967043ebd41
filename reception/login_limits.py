"""Limits on failed logins, per submitted e-mail and per client address, kept in memory.

Each process counts for itself, over a moving window: after too many failures, logins from
that address or for that e-mail are refused until the oldest failure leaves the window.
Successful logins are not counted. Attempts for one e-mail or from one address are checked one at
a time, so a burst of parallel guesses cannot all pass the check before the first one is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from .settings import Settings

UNKNOWN_ADDRESS = "unknown"


@dataclass
class LoginLimiter:
    """Counts failed logins and tells how long a locked-out caller must wait."""

    per_email: RateLimitItem
    per_address: RateLimitItem
    storage: MemoryStorage = field(default_factory=MemoryStorage)
    limiter: MovingWindowRateLimiter = field(init=False)
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, init=False, repr=False
    )

    def __post_init__(self) -> None:
        """Count over a moving window in the in-memory storage."""
        self.limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimiter:
        """Build the limiter with the configured attempts and window."""
        window = settings.login_window_seconds
        return cls(
            per_email=RateLimitItemPerSecond(
                settings.login_attempts_per_email, window, namespace="login-email"
            ),
            per_address=RateLimitItemPerSecond(
                settings.login_attempts_per_address, window, namespace="login-address"
            ),
        )

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, email: str, address: str | None) -> AsyncIterator[None]:
        """Hold other attempts for this e-mail or from this address until this one is counted."""
        (_, email_key), (_, address_key) = self._counters(email, address)
        async with self._lock(f"address:{address_key}"), self._lock(f"email:{email_key}"):
            yield

    async def retry_after(self, email: str, address: str | None) -> int | None:
        """Return how many seconds to wait before another try, or None if one is allowed now."""
        waits = [
            await self._wait(item, key)
            for item, key in self._counters(email, address)
            if not await self.limiter.test(item, key)
        ]
        return max(waits) if waits else None

    async def failed(self, email: str, address: str | None) -> None:
        """Count one failed login for the e-mail and for the address."""
        for item, key in self._counters(email, address):
            await self.limiter.hit(item, key)

    async def close(self) -> None:
        """Forget every count and stop the storage's expiry task."""
        await self.storage.reset()
        timer = self.storage.timer
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    def _lock(self, key: str) -> asyncio.Lock:
        """Return the lock of one key; it lives as long as someone holds or awaits it."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def _counters(self, email: str, address: str | None) -> list[tuple[RateLimitItem, str]]:
        """Return each limit with the key it counts under (the e-mail only as a digest)."""
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass"))
        return [
            (self.per_email, digest.hexdigest()),
            (self.per_address, address or UNKNOWN_ADDRESS),
        ]

    async def _wait(self, item: RateLimitItem, key: str) -> int:
        """Return the whole seconds until the oldest counted failure leaves the window."""
        stats = await self.limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

"""Let whoever put a job wait a moment for the outcome of its first attempt.

A caller that can answer a person (a patient, a member of staff) at once would rather wait a
few seconds for the delivery than say "saved, it will follow". It expects the job's key before
putting it, so that a worker that finishes first still finds the waiter, then waits; the
worker answers with whatever the outcome is. Nobody waiting is fine: the job goes on anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Generic, TypeVar

Outcome = TypeVar("Outcome")


class Waiters(Generic[Outcome]):
    """Outcomes of first attempts, by job key, for the callers that wait for them."""

    def __init__(self) -> None:
        """Start with nobody waiting."""
        self._waiting: dict[Hashable, asyncio.Future[Outcome]] = {}

    def expect(self, key: Hashable) -> None:
        """Announce a wait for a job that is about to be put."""
        self._waiting.setdefault(key, asyncio.get_running_loop().create_future())

    async def wait(self, key: Hashable, seconds: float) -> Outcome | None:
        """The outcome of an expected job, or None when it takes longer than seconds."""
        waiter = self._waiting.get(key)
        if waiter is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), seconds)
        except TimeoutError:
            return waiter.result() if waiter.done() else None
        finally:
            self._waiting.pop(key, None)

    def answer(self, key: Hashable, outcome: Outcome) -> bool:
        """Hand an outcome to its waiter; False when nobody waits any more."""
        waiter = self._waiting.get(key)
        if waiter is None or waiter.done():
            return False
        waiter.set_result(outcome)
        return True

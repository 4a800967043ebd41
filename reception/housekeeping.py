"""Reception's background job: retention and patient reminders, now and every interval.

Each pass runs on its own: one that fails is logged, by the kind of its error only (its text
may quote patient data), and the others and the next round still run. A setting that cannot
work is logged in full, because it says what to fix and holds nothing personal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from .follow_ups import FollowUpPeriodUnknown
from .retention import RetentionPeriodUnknown

logger = logging.getLogger(__name__)

# Errors that describe a setting or a content fact, never a patient.
SETTING_ERRORS = (RetentionPeriodUnknown, FollowUpPeriodUnknown)


@dataclass(frozen=True)
class Pass:
    """One job of the round: its name in the logs, and the work."""

    name: str
    run: Callable[[], Awaitable[object]]


async def keep_running(
    passes: Sequence[Pass], interval_seconds: float, stop: asyncio.Event
) -> None:
    """Run every pass now and every interval until stopped; a pass under way runs to its end."""
    while not stop.is_set():
        for job in passes:
            try:
                await job.run()
            except Exception as error:
                _log_failure(job.name, error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_seconds)


def _log_failure(name: str, error: Exception) -> None:
    """Log a failed pass: a setting error in full, anything else by its kind only."""
    if isinstance(error, SETTING_ERRORS):
        logger.error("%s: %s", name, error)
        return
    logger.error(
        "%s: the pass failed (%s); the next one runs in its time", name, type(error).__name__
    )

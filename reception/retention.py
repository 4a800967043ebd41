"""Retention: tickets closed or cancelled long enough ago lose their personal data.

The period is RECEPTION_RETENTION_DAYS when set, else what the privacy notice promises the
patients: `privacy.retention_days_after_closing` in content/reference.yml, read through the
content store each pass, so the notice and the practice cannot drift apart.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contentlib import ContentStore
from contentlib.store import DEFAULT_LANGUAGE

from . import erasure
from .models import utcnow
from .settings import MAX_RETENTION_DAYS, SettingsError, check_retention_days
from .wording import CodedError

logger = logging.getLogger(__name__)

PRIVACY_SECTION = "privacy"
RETENTION_FACT = "retention_days_after_closing"


class RetentionPeriodUnknown(CodedError, ValueError):
    """Neither the settings nor the content say how long closed tickets are kept."""

    code = "retention_period_unknown"

    def __init__(self, found: Any) -> None:
        """Keep where the period should be and what was found there."""
        super().__init__(
            section=PRIVACY_SECTION, fact=RETENTION_FACT, maximum=MAX_RETENTION_DAYS, found=found
        )


def retention_days(configured: int | None, store: ContentStore) -> int:
    """Return the retention period: the configured one, else the privacy notice's."""
    if configured is not None:
        return configured
    privacy = store.reference(DEFAULT_LANGUAGE).get(PRIVACY_SECTION)
    days = privacy.get(RETENTION_FACT) if isinstance(privacy, dict) else None
    if days is None:
        raise RetentionPeriodUnknown(days)
    try:
        check_retention_days(days)
    except SettingsError:
        raise RetentionPeriodUnknown(days) from None
    return int(days)


async def purge_once(
    sessionmaker: async_sessionmaker[AsyncSession], configured: int | None, store: ContentStore
) -> list[str]:
    """Run one pass: anonymise every ticket closed more than the retention period ago."""
    days = retention_days(configured, store)
    closed_before = utcnow() - timedelta(days=days)
    async with sessionmaker() as session:
        purged = await erasure.purge_closed_tickets(session, closed_before)
    if purged:
        logger.info("retention: tickets purged: %d", len(purged))
    return purged

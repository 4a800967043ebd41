"""Delete what the upload service no longer needs to keep: patients' bytes stay only while useful.

Each pass asks reception about the link of every upload on disk: the uploads of a link that
expired, was revoked (its request closed or erased) or is unknown are deleted, bytes and all.
An upload nobody has added to for `keep_partial_seconds` is deleted, and so is the record of
reception's answer once the page has had a day to read it; so is an upload that the service's
key no longer opens (the key was changed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict

from .links import Links
from .partials import Partials, Upload
from .reception_client import LinkGone, LinkUnknown, ReceptionUnavailable

logger = logging.getLogger(__name__)

KEEP_OUTCOME_SECONDS = 86_400.0


async def tidy_once(
    partials: Partials, links: Links, keep_partial_seconds: float, now: float | None = None
) -> int:
    """Delete the uploads that are no longer needed; return how many."""
    now = time.time() if now is None else now
    by_link: dict[str, list[Upload]] = defaultdict(list)
    for upload in partials.all():
        by_link[upload.token].append(upload)
    deleted = 0
    for token, uploads in by_link.items():
        try:
            await links.look_up(token)
            gone = False
        except (LinkUnknown, LinkGone):
            gone = True
        except ReceptionUnavailable:
            gone = False  # ask again next time; the age limits still hold
        for upload in uploads:
            age = now - partials.touched_at(upload)
            answered = upload.outcome is not None
            stale = age > (KEEP_OUTCOME_SECONDS if answered else keep_partial_seconds)
            unreadable = not answered and not partials.readable(upload)  # the key changed
            if gone or unreadable or (stale and (answered or not partials.is_complete(upload))):
                partials.delete(upload)
                deleted += 1
    return deleted


async def keep_tidying(
    partials: Partials, links: Links, keep_partial_seconds: float, interval: float
) -> None:
    """Tidy now and every `interval` seconds, until cancelled; a failed pass is logged."""
    while True:
        try:
            deleted = await tidy_once(partials, links, keep_partial_seconds)
            if deleted:
                logger.info("deleted %d uploads that were no longer needed", deleted)
        except Exception:
            logger.exception("tidying the uploads failed; trying again at the next pass")
        await asyncio.sleep(interval)


async def stop(task: asyncio.Task[None]) -> None:
    """Stop the tidying task."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

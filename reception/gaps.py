"""Query functions for the gap report: questions the assistant did not understand.

Each row is one time a question was asked: its words, language and intent, and when. Nothing
says who asked. Rows are grouped by their normalised text for the editors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contentlib import questions

from .models import QUESTION_LENGTH, ContentGap, GapIntent, utcnow

MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class GapGroup:
    """The same question asked one or more times, and not handled yet."""

    key: str
    language: str
    text: str
    count: int
    dates: tuple[date, ...]
    intents: tuple[str, ...]


def group_key(question: str) -> str:
    """The text that groups the ways a question was written."""
    return (questions.normalise(question) or question.casefold())[:QUESTION_LENGTH]


async def record_gap(session: AsyncSession, text: str, language: str, intent: GapIntent) -> bool:
    """Store a question; drop it (return False) if it is empty or holds contact details."""
    question = questions.screen(text)
    if question is None:
        return False
    session.add(
        ContentGap(
            text=question,
            normalised=group_key(question),
            language=language,
            intent=intent.value,
        )
    )
    await session.commit()
    return True


async def open_gaps(session: AsyncSession) -> list[GapGroup]:
    """The questions not handled yet, grouped, the most asked first."""
    rows = await session.scalars(
        select(ContentGap)
        .where(ContentGap.handled_at.is_(None))
        .order_by(ContentGap.asked_at.desc(), ContentGap.id.desc())
        .limit(MAX_ROWS)
    )
    groups: dict[tuple[str, str], list[ContentGap]] = {}
    for row in rows:
        groups.setdefault((row.normalised, row.language), []).append(row)
    found = [
        GapGroup(
            key=key,
            language=language,
            text=asked[0].text,
            count=len(asked),
            dates=tuple(dict.fromkeys(row.asked_at.date() for row in asked)),
            intents=tuple(sorted({row.intent for row in asked})),
        )
        for (key, language), asked in groups.items()
    ]
    return sorted(found, key=lambda group: (-group.count, [-d.toordinal() for d in group.dates]))


async def mark_handled(
    session: AsyncSession, key: str, language: str, by: str, topic: str | None
) -> int:
    """Mark every open asking of a question handled (added to `topic`, or dismissed)."""
    result = await session.execute(
        update(ContentGap)
        .where(
            ContentGap.normalised == key,
            ContentGap.language == language,
            ContentGap.handled_at.is_(None),
        )
        .values(handled_at=utcnow(), handled_by=by, topic=topic)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)

"""Anonymous counts of how far conversations get before the handoff, per day, step and language,
and of the FAQ topics patients ask about, per day, topic and language.

The action server reports each step a conversation reaches (once per conversation): the
milestones, then each question of the request form as it is first asked, named by its slot in
data/request_form.yml. Reception only adds one to that day's count; it never learns whose
conversation it was, so the counts can say where patients stop, and nothing about a patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

import requestform

from .models import FunnelCount, FunnelMilestone, TopicCount

# Every step, in the order a conversation reaches them: the milestones, then the form's questions.
STEPS: tuple[str, ...] = (
    *(milestone.value for milestone in FunnelMilestone),
    *requestform.declared().slots,
)


async def count_step(session: AsyncSession, step: str, language: str, day: date) -> None:
    """Add one conversation to the count of a step, on a day, in a language."""
    await _add_one(session, FunnelCount.reached, day=day, step=step, language=language)


async def count_topic(session: AsyncSession, topic: str, language: str, day: date) -> None:
    """Add one question to the count of an FAQ topic, on a day, in a language."""
    await _add_one(session, TopicCount.asked, day=day, topic=topic, language=language)


async def _add_one(
    session: AsyncSession, counter: InstrumentedAttribute[int], **key: object
) -> None:
    """Add one to the counter of the row with this key, creating the row at one."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(counter.class_).values(**key, **{counter.key: 1})
    await session.execute(
        statement.on_conflict_do_update(index_elements=list(key), set_={counter.key: counter + 1})
    )
    await session.commit()


async def topics_asked(
    session: AsyncSession, first: date, last: date
) -> tuple[tuple[str, str, int], ...]:
    """How many times each topic was asked in each language, most asked first."""
    total = func.sum(TopicCount.asked)
    rows = await session.execute(
        select(TopicCount.topic, TopicCount.language, total)
        .where(TopicCount.day >= first, TopicCount.day <= last)
        .group_by(TopicCount.topic, TopicCount.language)
        .order_by(total.desc(), TopicCount.topic, TopicCount.language)
    )
    return tuple((topic, language, int(asked)) for topic, language, asked in rows)


async def reached(session: AsyncSession, first: date, last: date) -> dict[tuple[str, str], int]:
    """How many conversations reached each step in each language, from the first day to the last."""
    rows = await session.execute(
        select(FunnelCount.step, FunnelCount.language, func.sum(FunnelCount.reached))
        .where(FunnelCount.day >= first, FunnelCount.day <= last)
        .group_by(FunnelCount.step, FunnelCount.language)
    )
    return {(step, language): int(total) for step, language, total in rows}


def per_step(counts: dict[tuple[str, str], int]) -> tuple[tuple[str, int], ...]:
    """Add up the languages: each step, in order, and how many reached it."""
    return tuple(
        (step, sum(total for (each, _), total in counts.items() if each == step)) for step in STEPS
    )


def per_language(
    counts: dict[tuple[str, str], int], step: str, languages: Sequence[str]
) -> tuple[tuple[str, int], ...]:
    """How many reached one step in each language (each language listed, reached or not)."""
    found = {language: 0 for language in languages}
    for (each, language), total in counts.items():
        if each == step:
            found[language] = found.get(language, 0) + total
    return tuple(sorted(found.items()))

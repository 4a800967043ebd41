"""The reports' figures: anonymous aggregates of the requests handed off over a period.

Only counts and durations leave this module, never a ticket: the query reads the columns the
figures need (when, status, waits, the records' states) and no contact detail. Every ticket
figure is about requests (not callbacks) handed off within the period, in the business
calendar's zone; the questions not understood are those asked within it, and the steps before
the handoff those counted on its days (neither has a department).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import funnel
from .models import (
    ContentGap,
    FunnelMilestone,
    RecordState,
    Ticket,
    TicketKind,
    TicketStatus,
    utcnow,
)
from .service_levels import BusinessCalendar, read_pauses

DEFAULT_WEEKS = 12
MAX_DAYS = 366  # the longest period a report covers
HOUR = 3600
DAY = 24 * HOUR
# The histograms' bounds: business hours to the first contact, days spent waiting for records.
FIRST_CONTACT_HOURS = (0, 1, 2, 4, 8, 16, 40)
WAITING_DAYS = (0, 1, 3, 7, 15, 30)


@dataclass(frozen=True, slots=True)
class Period:
    """The days a report covers, first and last included, and the department it is about."""

    start: date
    end: date
    department: str | None = None

    @classmethod
    def default(cls, calendar: BusinessCalendar, department: str | None = None) -> Period:
        """The last twelve weeks: from the Monday eleven weeks before this one, to today."""
        today = utcnow().astimezone(ZoneInfo(calendar.zone)).date()
        start = monday(today) - timedelta(weeks=DEFAULT_WEEKS - 1)
        return cls(start, today, department)

    @property
    def valid(self) -> bool:
        """Tell whether the period runs forward and is not longer than a report covers."""
        return self.start <= self.end and (self.end - self.start).days < MAX_DAYS

    def bounds(self, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
        """The period in UTC: from its first midnight to the midnight after its last day."""
        zone = ZoneInfo(calendar.zone)
        start = datetime.combine(self.start, datetime.min.time(), zone)
        end = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone)
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations, in seconds: how many, their median and 90th percentile, and a histogram."""

    count: int
    median: float | None
    p90: float | None
    histogram: tuple[int, ...]  # one count per bucket of the bounds it was made with

    @classmethod
    def of(cls, seconds: Sequence[float], bounds: Sequence[float]) -> Spread:
        """Sum up durations against the lower bounds of a histogram's buckets."""
        ordered = sorted(seconds)
        histogram = [0] * len(bounds)
        for value in ordered:
            histogram[max(bisect.bisect_right(bounds, value) - 1, 0)] += 1
        return cls(len(ordered), median(ordered), percentile(ordered, 90), tuple(histogram))


@dataclass(frozen=True, slots=True)
class Report:
    """Every figure of the reports page, for one period."""

    period: Period
    weeks: tuple[tuple[date, int], ...]  # each week's Monday and the requests handed off in it
    handed_off: int
    contacted: int  # of those, how many had a first contact
    closed: int  # of those, how many are closed
    first_contact: Spread  # business seconds from the handoff to the first contact
    waiting: Spread  # seconds spent waiting for records, by requests that waited
    still_waiting: int  # of those, how many wait still
    complete: int  # requests handed off with every record in hand
    incomplete: int  # requests handed off with a record still to come
    gaps: tuple[tuple[str, int], ...]  # questions not understood, per language
    before_handoff: tuple[tuple[str, int], ...]  # each step of funnel.STEPS, how many reached it
    conversations: tuple[tuple[str, int], ...]  # conversations that began, per language
    topics: tuple[tuple[str, str, int], ...]  # FAQ topic's title, language, times asked


async def build_report(
    session: AsyncSession,
    period: Period,
    calendar: BusinessCalendar,
    languages: Sequence[str],
    topic_titles: Mapping[str, str],
) -> Report:
    """Work out every figure of a period (the gaps listed for each language, asked or not;
    the topics by their titles for staff).
    """
    start, end = period.bounds(calendar)
    query = select(
        Ticket.created_at, Ticket.first_contact_at, Ticket.status, Ticket.pauses, Ticket.records
    ).where(
        Ticket.kind == TicketKind.REQUEST.value,
        Ticket.created_at >= start,
        Ticket.created_at < end,
    )
    if period.department:
        query = query.where(Ticket.department == period.department)
    rows = (await session.execute(query)).all()
    now = utcnow()
    contacts = [
        calendar.seconds_between(row.created_at, row.first_contact_at)
        for row in rows
        if row.first_contact_at is not None
    ]
    waits = [read_pauses(row.pauses) for row in rows if row.pauses]
    records = [row.records for row in rows if row.records]
    steps = await funnel.reached(session, period.start, period.end)
    return Report(
        period=period,
        weeks=_weeks(period, [row.created_at for row in rows], calendar),
        handed_off=len(rows),
        contacted=len(contacts),
        closed=sum(row.status == TicketStatus.CLOSED.value for row in rows),
        first_contact=Spread.of(contacts, [hours * HOUR for hours in FIRST_CONTACT_HOURS]),
        waiting=Spread.of(
            [_waited(pauses, now) for pauses in waits], [days * DAY for days in WAITING_DAYS]
        ),
        still_waiting=sum(pauses[-1][1] is None for pauses in waits),
        complete=sum(_complete(states) for states in records),
        incomplete=sum(not _complete(states) for states in records),
        gaps=await _gaps(session, start, end, languages),
        before_handoff=funnel.per_step(steps),
        conversations=funnel.per_language(steps, FunnelMilestone.CONVERSATION, languages),
        topics=tuple(
            (topic_titles.get(topic, topic), language, asked)
            for topic, language, asked in await funnel.topics_asked(
                session, period.start, period.end
            )
        ),
    )


def monday(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


def median(ordered: Sequence[float]) -> float | None:
    """The middle of sorted values (the mean of the two middle ones), or None without any."""
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(ordered: Sequence[float], rank: int) -> float | None:
    """The nearest-rank percentile of sorted values: the smallest with `rank`% at or below it."""
    if not ordered:
        return None
    return ordered[max(math.ceil(rank / 100 * len(ordered)), 1) - 1]


def _weeks(
    period: Period, moments: Sequence[datetime], calendar: BusinessCalendar
) -> tuple[tuple[date, int], ...]:
    """Count the moments per week of the period (Monday to Sunday in the calendar's zone)."""
    zone = ZoneInfo(calendar.zone)
    counts = Counter(monday(moment.astimezone(zone).date()) for moment in moments)
    first, last = monday(period.start), monday(period.end)
    weeks = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    return tuple((week, counts[week]) for week in weeks)


def _waited(pauses: Sequence[tuple[datetime, datetime | None]], now: datetime) -> float:
    """Seconds a ticket spent waiting for records; a wait that lasts still counts until now."""
    return sum(max(((until or now) - begin).total_seconds(), 0.0) for begin, until in pauses)


def _complete(records: dict[str, str]) -> bool:
    """Tell whether the patient had every record in hand at the handoff."""
    return all(state == RecordState.HAVE.value for state in records.values())


async def _gaps(
    session: AsyncSession, start: datetime, end: datetime, languages: Sequence[str]
) -> tuple[tuple[str, int], ...]:
    """Count the questions not understood per language, over a span."""
    rows = await session.execute(
        select(ContentGap.language, func.count())
        .where(ContentGap.asked_at >= start, ContentGap.asked_at < end)
        .group_by(ContentGap.language)
    )
    counts: dict[str, int] = {language: 0 for language in languages}
    counts.update({language: int(count) for language, count in rows})
    return tuple(sorted(counts.items()))

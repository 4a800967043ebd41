"""Service levels: how long reception has to answer a request, counted in business hours.

Two clocks run on every request:
- **first contact**: from the handoff until staff first write to the patient or take the ticket
  in hand (move it out of "new");
- **records decision**: from when the records are in (the handoff, or the last file received
  since) until staff decide (an appointment, or the ticket closed or cancelled).

Both count business hours only (opening hours on working days, not on the country's public
holidays, in the centre's time zone), and both stand still while the ticket waits for the patient's
records. A ticket keeps, as facts, when each clock stopped and when it waited; everything else
(what is left, what is late) is worked out here from those facts and the calendar, so changing
the targets or the hours takes effect on the next start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from .models import Ticket, TicketStatus
from .wording import CodedError

# No span a ticket lives through is longer than this; it bounds the walks through the calendar.
MAX_DAYS = 3_660
DECISIONS = frozenset(
    {TicketStatus.APPOINTMENT_SCHEDULED, TicketStatus.CLOSED, TicketStatus.CANCELLED}
)
PAUSED_STATUS = TicketStatus.WAITING_FOR_RECORDS


class Target(StrEnum):
    """What a clock measures."""

    FIRST_CONTACT = "first_contact"
    RECORDS_DECISION = "records_decision"


class ClockState(StrEnum):
    """Where a clock stands."""

    RUNNING = "running"
    PAUSED = "paused"  # waiting for the patient's records
    MET = "met"
    MISSED = "missed"


class CalendarError(CodedError, ValueError):
    """Business hours that cannot work, or a business time the calendar cannot reach."""


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours on working days, without the public holidays of a country, in one zone."""

    zone: str = "Europe/Brussels"
    opens: time = time(9)
    closes: time = time(17)
    country: str = "BE"

    def __post_init__(self) -> None:
        """Refuse hours that close before they open, an unknown zone or country."""
        if self.closes <= self.opens:
            raise CalendarError("business_hours_reversed", opens=self.opens, closes=self.closes)
        ZoneInfo(self.zone)
        holidays.country_holidays(self.country)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        """The country's public holidays, filled in year by year as they are asked for."""
        return holidays.country_holidays(self.country)

    @property
    def day_seconds(self) -> float:
        """How long one business day lasts."""
        return _seconds(self.closes) - _seconds(self.opens)

    def is_working_day(self, day: date) -> bool:
        """Tell whether a day is a weekday that is not a public holiday."""
        return day.weekday() < 5 and day not in self._holidays

    def is_open(self, moment: datetime) -> bool:
        """Tell whether a moment falls within the business hours of a working day."""
        local = moment.astimezone(ZoneInfo(self.zone))
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Count the business seconds from start to end (0 when end is not after start)."""
        total = 0.0
        if end <= start:
            return total
        for opens, closes in self._open_hours(start, end):
            total += (min(closes, end) - max(opens, start)).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """Return the moment `seconds` business seconds after start."""
        left = seconds
        for opens, closes in self._open_hours(start, start + timedelta(days=MAX_DAYS)):
            begin = max(opens, start)
            span = (closes - begin).total_seconds()
            if left <= span:
                return begin + timedelta(seconds=left)
            left -= span
        raise CalendarError("business_time_out_of_reach", days=MAX_DAYS)

    def _open_hours(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield each working day's opening hours that overlap start..end, in UTC."""
        zone = ZoneInfo(self.zone)
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, zone).astimezone(UTC)
                closes = datetime.combine(day, self.closes, zone).astimezone(UTC)
                if closes > start and opens < end:
                    yield opens, closes
            day += timedelta(days=1)


@dataclass(frozen=True)
class Clock:
    """One service level of one ticket, as it stands at a moment."""

    target: Target
    state: ClockState
    due_at: datetime | None  # when it falls due, while it runs
    seconds_left: float | None  # business seconds; below 0 when late; None once stopped

    @property
    def overdue(self) -> bool:
        """Tell whether the target is already missed, stopped or not."""
        return self.state is ClockState.MISSED or (
            self.seconds_left is not None and self.seconds_left < 0
        )


@dataclass(frozen=True)
class ServiceLevels:
    """The targets, in business days, and the calendar they are counted in."""

    first_contact_days: int = 1
    records_decision_days: int = 5
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def clocks(self, ticket: Ticket, now: datetime) -> list[Clock]:
        """Return both clocks of a ticket, as they stand at `now`."""
        pauses = read_pauses(ticket.pauses)
        return [
            self._clock(
                Target.FIRST_CONTACT, ticket.created_at, ticket.first_contact_at, pauses, now
            ),
            self._clock(
                Target.RECORDS_DECISION, records_since(ticket), ticket.decided_at, pauses, now
            ),
        ]

    def next_due(self, ticket: Ticket, now: datetime) -> datetime | None:
        """Return when the next running clock falls due, or None when none runs."""
        dues = [clock.due_at for clock in self.clocks(ticket, now) if clock.due_at is not None]
        return min(dues, default=None)

    def _clock(
        self,
        target: Target,
        start: datetime,
        stop: datetime | None,
        pauses: Sequence[tuple[datetime, datetime | None]],
        now: datetime,
    ) -> Clock:
        """Work out one clock from when it started, stopped and waited."""
        calendar = self.calendar
        goal = self._days(target) * calendar.day_seconds
        end = stop or now
        waited = sum(
            calendar.seconds_between(max(begin, start), min(until or end, end))
            for begin, until in pauses
        )
        used = calendar.seconds_between(start, end) - waited
        if stop is not None:
            state = ClockState.MET if used <= goal else ClockState.MISSED
            return Clock(target, state, None, None)
        if pauses and pauses[-1][1] is None:
            return Clock(target, ClockState.PAUSED, None, goal - used)
        return Clock(target, ClockState.RUNNING, calendar.add(start, goal + waited), goal - used)

    def _days(self, target: Target) -> int:
        """The target of a clock, in business days."""
        if target is Target.FIRST_CONTACT:
            return self.first_contact_days
        return self.records_decision_days


DEFAULT_LEVELS = ServiceLevels()


def records_since(ticket: Ticket) -> datetime:
    """When the records clock starts: the handoff, or the last file the patient sent since."""
    return max(ticket.created_at, ticket.last_file_at or ticket.created_at)


def note_status_change(ticket: Ticket, status: TicketStatus, at: datetime) -> None:
    """Record on the ticket what a status change means for its clocks."""
    if ticket.first_contact_at is None:
        ticket.first_contact_at = at  # taking a ticket in hand is a contact
    if status in DECISIONS and ticket.decided_at is None:
        ticket.decided_at = at
    pauses = [list(pause) for pause in ticket.pauses]
    if pauses and pauses[-1][1] is None and status is not PAUSED_STATUS:
        pauses[-1][1] = at.isoformat()
    elif status is PAUSED_STATUS and not (pauses and pauses[-1][1] is None):
        pauses.append([at.isoformat(), None])
    ticket.pauses = pauses


def note_contact(ticket: Ticket, at: datetime) -> None:
    """Record that staff wrote to the patient."""
    if ticket.first_contact_at is None:
        ticket.first_contact_at = at


def read_pauses(
    stored: Sequence[Sequence[str | None]],
) -> list[tuple[datetime, datetime | None]]:
    """Read the stored waits: [from, until] in ISO 8601, `until` null while it lasts."""
    return [
        (
            datetime.fromisoformat(str(begin)),
            None if until is None else datetime.fromisoformat(until),
        )
        for begin, until in stored
    ]


def _seconds(moment: time) -> float:
    """Seconds since midnight."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second

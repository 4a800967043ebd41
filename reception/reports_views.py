"""The reports page: anonymous figures over a period, each as a chart, a table and a CSV file.

Each chart's rows are worked out once; the SVG, the table beside it and its CSV download are
all drawn from those rows, so they always agree. Reception and admins see the page; editors get
the refusal of the other pages that work tickets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from multidict import MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from . import queries, wording
from .appkeys import CONTENT_KEY, SESSIONMAKER_KEY, SETTINGS_KEY
from .charts import Bar, bar_chart
from .pages import business_time, label, render
from .replies import STAFF_LANGUAGE
from .reports import (
    DAY,
    DEFAULT_WEEKS,
    FIRST_CONTACT_HOURS,
    MAX_DAYS,
    WAITING_DAYS,
    Period,
    Report,
    build_report,
)
from .service_levels import BusinessCalendar
from .staff_auth import require_staff, require_ticket_work

routes = web.RouteTableDef()

Rows = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the page: what it is called, what it says, and the rows it draws."""

    name: str
    title: str
    summary: str
    columns: tuple[str, str]
    rows: Rows

    @property
    def svg(self) -> Markup:
        """The chart drawn as inline SVG, described by its title and summary."""
        bars = [Bar(text, value) for text, value in self.rows]
        return bar_chart(f"chart-{self.name}", self.title, self.summary, bars)

    def csv(self) -> str:
        """The chart's table as CSV: its two column headings, then one line per row."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return buffer.getvalue()


def _requests(report: Report) -> tuple[Rows, str]:
    """Requests handed off per week."""
    rows = tuple((week.isoformat(), count) for week, count in report.weeks)
    summary = wording.text(
        "reports_summary_requests",
        total=report.handed_off,
        start=report.period.start.isoformat(),
        end=report.period.end.isoformat(),
        weeks=len(rows),
    )
    return rows, summary


def _before_handoff(report: Report) -> tuple[Rows, str]:
    """How many conversations reached each step before the handoff, in every language."""
    milestones = wording.table("reports_milestones")
    rows = tuple(
        (
            milestones.get(step) or wording.text("reports_question", question=label(step)),
            count,
        )
        for step, count in report.before_handoff
    )
    summary = wording.text(
        "reports_summary_before_handoff",
        conversations=report.conversations,
        total=sum(count for _, count in report.conversations),
        department=report.period.department,
    )
    return rows, summary


def _funnel(report: Report) -> tuple[Rows, str]:
    """From the handoff to the first contact to closing."""
    steps = wording.table("reports_funnel_steps")
    rows = (
        (steps["handed_off"], report.handed_off),
        (steps["first_contact"], report.contacted),
        (steps["closed"], report.closed),
    )
    summary = wording.text(
        "reports_summary_funnel",
        handed_off=report.handed_off,
        contacted=report.contacted,
        closed=report.closed,
    )
    return rows, summary


def _first_contact(report: Report) -> tuple[Rows, str]:
    """Business hours from the handoff to the first contact."""
    spread = report.first_contact
    rows = _buckets(FIRST_CONTACT_HOURS, spread.histogram, _hours)
    summary = wording.text(
        "reports_summary_first_contact",
        count=spread.count,
        median=business_time(spread.median or 0),
        p90=business_time(spread.p90 or 0),
    )
    return rows, summary


def _waiting(report: Report) -> tuple[Rows, str]:
    """Days spent waiting for records."""
    spread = report.waiting
    rows = _buckets(WAITING_DAYS, spread.histogram, _days)
    summary = wording.text(
        "reports_summary_waiting",
        count=spread.count,
        median=_days(_in_days(spread.median or 0)),
        p90=_days(_in_days(spread.p90 or 0)),
        still=report.still_waiting,
    )
    return rows, summary


def _complete(report: Report) -> tuple[Rows, str]:
    """Requests handed off with every record in hand, and the others."""
    states = wording.table("reports_records")
    rows = ((states["complete"], report.complete), (states["incomplete"], report.incomplete))
    total = report.complete + report.incomplete
    share = round(100 * report.complete / total) if total else 0
    summary = wording.text("reports_summary_complete", total=total, share=share)
    return rows, summary


def _gaps(report: Report) -> tuple[Rows, str]:
    """Questions not understood, per language."""
    summary = wording.text(
        "reports_summary_gaps",
        total=sum(count for _, count in report.gaps),
        department=report.period.department,
    )
    return report.gaps, summary


def _topics(report: Report) -> tuple[Rows, str]:
    """The FAQ topics patients asked about, per language, most asked first."""
    rows = tuple(
        (wording.text("reports_topic", topic=title, language=language), asked)
        for title, language, asked in report.topics
    )
    summary = wording.text(
        "reports_summary_topics",
        total=sum(asked for _, asked in rows),
        department=report.period.department,
    )
    return rows, summary


# The charts, in the page's order, by the name in their ids and CSV addresses.
CHARTS: dict[str, Callable[[Report], tuple[Rows, str]]] = {
    "requests": _requests,
    "before_handoff": _before_handoff,
    "funnel": _funnel,
    "first_contact": _first_contact,
    "waiting": _waiting,
    "complete": _complete,
    "topics": _topics,
    "gaps": _gaps,
}


def charts(report: Report) -> list[Chart]:
    """Every chart of a report, with its words."""
    titles = wording.table("reports_titles")
    columns, counted = wording.table("reports_columns"), wording.table("reports_counted")
    found = []
    for name, figures in CHARTS.items():
        rows, summary = figures(report)
        found.append(Chart(name, titles[name], summary, (columns[name], counted[name]), rows))
    return found


@routes.get("/reports", name="reports")
async def reports_page(request: web.Request) -> web.StreamResponse:
    """Show the charts of a period, for one department or all of them."""
    staff = await require_staff(request)
    require_ticket_work(request, staff)
    calendar = request.app[SETTINGS_KEY].service_levels.calendar
    period, understood = read_period(request.query, calendar)
    async with request.app[SESSIONMAKER_KEY]() as session:
        report = await _build(request, session, period)
        departments = await queries.list_departments(session)
    error = None
    if not understood:
        error = wording.text("reports_period_invalid", maximum=MAX_DAYS, weeks=DEFAULT_WEEKS)
    return render(
        request,
        "reports.html",
        staff=staff,
        csrf_token=staff.csrf_token,
        period=period,
        department_label=label(period.department) if period.department else "",
        departments=departments,
        zone=calendar.zone,
        charts=charts(report),
        query=period_query(period),
        error=error,
    )


@routes.get("/reports/{chart}.csv", name="report_csv")
async def report_csv(request: web.Request) -> web.StreamResponse:
    """Send one chart's table as a CSV file."""
    staff = await require_staff(request)
    require_ticket_work(request, staff)
    name = request.match_info["chart"]
    if name not in CHARTS:
        raise web.HTTPNotFound()
    calendar = request.app[SETTINGS_KEY].service_levels.calendar
    period, _ = read_period(request.query, calendar)
    async with request.app[SESSIONMAKER_KEY]() as session:
        report = await _build(request, session, period)
    chart = next(chart for chart in charts(report) if chart.name == name)
    filename = f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return web.Response(
        text=chart.csv(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def read_period(query: MultiMapping[str], calendar: BusinessCalendar) -> tuple[Period, bool]:
    """Read the period from a query string; the last weeks, and False, if it makes no sense."""
    department = query.get("department", "").strip()[:200] or None
    default = Period.default(calendar, department)
    try:
        start = _date(query.get("from"), default.start)
        end = _date(query.get("to"), default.end)
    except ValueError:
        return default, False
    period = Period(start, end, department)
    return (period, True) if period.valid else (default, False)


def period_query(period: Period) -> str:
    """The query string that asks for a period again (for the CSV links)."""
    values = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if period.department:
        values["department"] = period.department
    return urlencode(values)


async def _build(request: web.Request, session: AsyncSession, period: Period) -> Report:
    """Work out the report of a period, with the gaps of every language of the content."""
    calendar = request.app[SETTINGS_KEY].service_levels.calendar
    store = request.app[CONTENT_KEY].store
    titles = {topic_id: topic.title for topic_id, topic in store.topics(STAFF_LANGUAGE).items()}
    return await build_report(session, period, calendar, sorted(store.languages), titles)


def _date(value: str | None, default: date) -> date:
    """Read an ISO date (2027-01-14), or take the default when none is given."""
    return date.fromisoformat(value) if value else default


def _buckets(bounds: Sequence[int], counts: Sequence[int], say: Callable[[float], str]) -> Rows:
    """Name a histogram's buckets by their bounds: '0 to 1 h', …, '40 h or more'."""
    rows = []
    for index, count in enumerate(counts):
        if index + 1 < len(bounds):
            text = wording.text("reports_bucket", low=bounds[index], high=say(bounds[index + 1]))
        else:
            text = wording.text("reports_bucket_last", low=say(bounds[index]))
        rows.append((text, count))
    return tuple(rows)


def _hours(count: float) -> str:
    """Say a number of hours briefly: '4 h'."""
    return wording.text("age_hours", count=count)


def _days(count: float) -> str:
    """Say a number of days briefly: '15 d'."""
    return wording.text("age_days", count=count)


def _in_days(seconds: float) -> float:
    """Turn seconds into days, to a tenth: 4.5, or 4 rather than 4.0."""
    days = round(seconds / DAY, 1)
    return int(days) if days.is_integer() else days

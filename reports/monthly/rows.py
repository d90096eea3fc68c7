"""The monthly report's periods and input rows: what the loader (`tasks.reporting.load`) reads.

Periods (dates are Europe/London local dates):

* **month**: the calendar month `YYYY-MM`, first to last day inclusive;
* **year to date**: the UK financial year the month falls in — from 1 April (of the same
  year for April–December, of the year before for January–March) to the month's last day.
  LA contracts and budgets run on financial years.
* **trend**: the twelve months up to the month (certificates on time, month by month).

Only non-personal columns are carried (references, codes, dates, states, amounts), so the
figures survive the retention job that nulls a case's personal details.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import TypeVar

from models.domain.calendar import add_months

T = TypeVar("T")

#: the row tables of a `ReportInput` (each row has a `la_code`)
ROW_TABLES = ("cases", "events", "certificates", "sessions", "clocks", "claims")


# --- periods ---------------------------------------------------------------------------------
def parse_month(text: str) -> date:
    """The first day of month `YYYY-MM`; `ValueError` naming the text otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"month {text!r} is not YYYY-MM") from None


def month_bounds(first: date) -> tuple[date, date]:
    """(first day, last day) of the month containing `first`."""
    start = first.replace(day=1)
    return start, start.replace(day=_stdlib_calendar.monthrange(start.year, start.month)[1])


def previous_month(today: date) -> str:
    """`YYYY-MM` of the month just ended relative to `today` (1 Dec 2026 -> 2026-11)."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def financial_year_start(day: date) -> date:
    """1 April of the UK financial year containing `day`."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def trend_start(month_start: date) -> date:
    """The first day of the twelve-month trend ending with the month of `month_start`."""
    return add_months(month_start, -11)


@dataclass(frozen=True, slots=True)
class Periods:
    """The days a report of `month` looks at: the month, the financial year to date, the trend."""

    month_start: date
    month_end: date
    ytd_start: date
    trend_start: date

    @classmethod
    def of(cls, month: str) -> Periods:
        start, end = month_bounds(parse_month(month))
        return cls(start, end, financial_year_start(start), trend_start(start))

    @property
    def earliest(self) -> date:
        """The first day any figure of the report counts (the trend starts no later than the year)."""
        return min(self.ytd_start, self.trend_start)


def sorted_by(rows: Iterable[T], *fields: str) -> list[T]:
    """`rows` sorted by `fields` (as by the tuple of them, ties in their order), one stable sort
    per field from the last: no key tuple per row (a million small objects at full scale, memory)."""
    out = list(rows)
    for name in reversed(fields):
        out.sort(key=attrgetter(name))
    return out


def between(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


# --- input rows (what the loader reads; non-personal columns only) -----------------------------
@dataclass(frozen=True, slots=True)
class LaInfo:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CaseRow:
    ref: str
    la_code: str
    service: str  # mediation | drs
    decision_type: str | None
    received_on: date
    status: str


@dataclass(frozen=True, slots=True)
class EventRow:
    ref: str
    la_code: str
    event: str
    on: date
    cert_type: str | None = None
    detail: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class CertificateRow:
    """A certificate issued (status `issued`); `trigger_on` None when its trigger is unknown."""

    ref: str
    la_code: str
    type: str
    issued_on: date
    trigger_on: date | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A mediation meeting: `on` is its local date; `cancelled_on` the local date it was cancelled."""

    ref: str
    la_code: str
    on: date
    status: str  # scheduled | held | cancelled
    cancelled_by: str | None = None
    cancelled_on: date | None = None
    outcome: str | None = None
    outcome_on: date | None = None


@dataclass(frozen=True, slots=True)
class ClockRow:
    ref: str
    la_code: str
    name: str
    owner: str
    due: date
    target: date
    state: str
    met_on: date | None = None


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """An expense claim line: `received_on` the local date it was imported."""

    ref: str
    la_code: str
    received_on: date
    session_date: date
    status: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything one report is built from. `for_la(code)` keeps only that LA's rows."""

    month: str
    las: tuple[LaInfo, ...]
    cases: tuple[CaseRow, ...] = ()
    events: tuple[EventRow, ...] = ()
    certificates: tuple[CertificateRow, ...] = ()
    sessions: tuple[SessionRow, ...] = ()
    clocks: tuple[ClockRow, ...] = ()
    claims: tuple[ClaimRow, ...] = ()

    def for_la(self, code: str) -> ReportInput:
        return self.by_la((code,))[code]

    def by_la(self, codes: tuple[str, ...] | None = None) -> dict[str, ReportInput]:
        """Each LA's own input (of `codes`, default every LA in `las`), in one pass over the rows."""
        wanted = tuple(la.code for la in self.las) if codes is None else codes
        rows: dict[str, dict[str, list]] = {code: defaultdict(list) for code in wanted}
        for table in ROW_TABLES:
            for row in getattr(self, table):
                mine = rows.get(row.la_code)
                if mine is not None:
                    mine[table].append(row)
        return {
            code: ReportInput(
                self.month,
                tuple(la for la in self.las if la.code == code),
                **{table: tuple(rows[code][table]) for table in ROW_TABLES},
            )
            for code in wanted
        }

    def only_las(self) -> ReportInput:
        """The same input without rows of LAs not in `las`."""
        codes = {la.code for la in self.las}
        if all(r.la_code in codes for t in ROW_TABLES for r in getattr(self, t)):
            return self  # nothing to drop (frozen: the same rows, no copy)
        kept = {t: tuple(r for r in getattr(self, t) if r.la_code in codes) for t in ROW_TABLES}
        return ReportInput(self.month, self.las, **kept)

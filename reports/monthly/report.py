"""The monthly report's figures, from plain rows: pure, deterministic, no I/O, never reads the clock.

`build_report(data, calendar)` turns a `ReportInput` (frozen rows loaded by
`tasks.reporting.load`) into a `MonthlyReport`: every KPI's figures (`reports.monthly.kpis`)
for the month and for the financial year to date, overall and per local authority, each a
`Figure` with its **count and denominator** so a commissioner can check it, plus the case list,
the clocks due in the month and the late first meetings with their breach reasons.
`for_la(report, code)` is one LA's report, taken from the whole one (nothing is computed twice);
`each_la(report)` gives them all, the lines split by LA in one pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from models.domain.calendar import WorkingCalendar
from reports.monthly.facts import CaseFacts
from reports.monthly.kpi import Figure, Period
from reports.monthly.kpis import KPIS
from reports.monthly.lines import CaseLine, ClockLine, LateMeeting, case_lines, clock_lines, late_meetings
from reports.monthly.rows import Periods, ReportInput, between


@dataclass(frozen=True)
class TrendPoint:
    month: str  # YYYY-MM
    issued: int
    with_trigger: int
    on_time: int

    @property
    def ratio(self) -> float | None:
        return self.on_time / self.with_trigger if self.with_trigger else None


@dataclass(frozen=True)
class ScopeFigures:
    """The figures of one scope (all LAs, or one LA) for the month and the year to date."""

    code: str  # "ALL" or the LA's ONS code
    name: str
    month: tuple[Figure, ...]
    ytd: tuple[Figure, ...]
    trend: tuple[TrendPoint, ...]

    def get(self, key: str, period: str = "month") -> Figure:
        for f in self.month if period == "month" else self.ytd:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    month_start: date
    month_end: date
    ytd_start: date
    scope: ScopeFigures  # all LAs in `las` together
    by_la: tuple[ScopeFigures, ...]
    case_lines: tuple[CaseLine, ...]
    clock_lines: tuple[ClockLine, ...]
    late_meetings: tuple[LateMeeting, ...]
    single_la: bool = field(default=False)


def _figures(data: ReportInput, facts: CaseFacts, start: date, end: date) -> tuple[Figure, ...]:
    period = Period(data, facts, start, end)
    return tuple(figure for k in KPIS for figure in k.figures(period))


def _trend(data: ReportInput, facts: CaseFacts, periods: Periods) -> tuple[TrendPoint, ...]:
    """Certificates issued and on time, month by month over the twelve months to the month."""
    issued: Counter[str] = Counter()
    known: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    for c in data.certificates:
        if between(c.issued_on, periods.trend_start, periods.month_end):
            month = f"{c.issued_on.year:04d}-{c.issued_on.month:02d}"
            issued[month] += 1
            t = facts.certificate_on_time(c)
            known[month] += t is not None
            on_time[month] += bool(t)
    months = []
    day = periods.trend_start
    while day <= periods.month_start:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return tuple(TrendPoint(m, issued[m], known[m], on_time[m]) for m in months)


def _scope(data: ReportInput, facts: CaseFacts, code: str, name: str, periods: Periods) -> ScopeFigures:
    return ScopeFigures(
        code=code,
        name=name,
        month=_figures(data, facts, periods.month_start, periods.month_end),
        ytd=_figures(data, facts, periods.ytd_start, periods.month_end),
        trend=_trend(data, facts, periods),
    )


def build_report(data: ReportInput, calendar: WorkingCalendar) -> MonthlyReport:
    """Every figure of the month `data.month` and its financial year to date.

    `data.las` fixes the LAs reported (in that order) — rows of other LAs are ignored; a
    single-LA input gives that LA's report only. Deterministic: the same rows and
    holidays always give an equal `MonthlyReport`.
    """
    periods = Periods.of(data.month)
    data = data.only_las()
    single = len(data.las) == 1
    facts = CaseFacts(data, calendar)
    if single:
        scope = _scope(data, facts, data.las[0].code, data.las[0].name, periods)
        by_la: tuple[ScopeFigures, ...] = (scope,)
    else:
        scope = _scope(data, facts, "ALL", "All local authorities", periods)
        parts = data.by_la()
        by_la = tuple(
            _scope(part, CaseFacts(part, calendar), la.code, la.name, periods)
            for la in data.las
            for part in (parts.pop(la.code),)  # each LA's rows freed once its figures are made (memory)
        )
    month = (periods.month_start, periods.month_end)
    cases = case_lines(data, facts, *month)
    late = late_meetings(facts, data, month, periods.ytd_start)
    del facts  # the per-case facts are freed before the clock lines are made (memory, issue 14)
    return MonthlyReport(
        month=data.month,
        month_start=periods.month_start,
        month_end=periods.month_end,
        ytd_start=periods.ytd_start,
        scope=scope,
        by_la=by_la,
        case_lines=cases,
        clock_lines=clock_lines(data, calendar, *month),
        late_meetings=late,
        single_la=single,
    )


def for_la(report: MonthlyReport, code: str) -> MonthlyReport:
    """The report of one LA of `report` alone (equal to building it from that LA's rows only)."""
    (scope,) = (s for s in report.by_la if s.code == code)
    return replace(
        report,
        scope=scope,
        by_la=(scope,),
        case_lines=tuple(line for line in report.case_lines if line.la_code == code),
        clock_lines=tuple(line for line in report.clock_lines if line.la_code == code),
        late_meetings=tuple(line for line in report.late_meetings if line.la_code == code),
        single_la=True,
    )


def lines_by_la(lines: Iterable[Any]) -> dict[str, list[Any]]:
    """Lines (case, clock or late-meeting lines) split by their LA's code in one pass, in order."""
    split: dict[str, list[Any]] = defaultdict(list)
    for line in lines:
        split[line.la_code].append(line)
    return split


def each_la(report: MonthlyReport) -> Iterator[MonthlyReport]:
    """`for_la(report, code)` for every LA of `report`, in order, the lines split in one pass."""
    cases, clocks, late = (lines_by_la(x) for x in (report.case_lines, report.clock_lines, report.late_meetings))
    for scope in report.by_la:
        yield replace(
            report,
            scope=scope,
            by_la=(scope,),
            case_lines=tuple(cases.get(scope.code, ())),
            clock_lines=tuple(clocks.get(scope.code, ())),
            late_meetings=tuple(late.get(scope.code, ())),
            single_la=True,
        )


def headline_kpis(report: MonthlyReport) -> list[dict[str, object]]:
    """One plain row per scope (all LAs, then each LA) of the month's headline figures."""

    def pct(f: Figure) -> str:
        return f"{f.count}/{f.denominator}" + (f" ({f.ratio:.0%})" if f.ratio is not None else "")

    rows = []
    scopes: Sequence[ScopeFigures] = (report.scope,) if report.single_la else (report.scope, *report.by_la)
    for s in scopes:
        rows.append(
            {
                "scope": s.name,
                "referrals": s.get("referrals_total").count,
                "chose_mediation": pct(s.get("decisions_chose_mediation")),
                "certificates_on_time": pct(s.get("certificates_on_time")),
                "meetings_within_30_days": pct(s.get("meetings_within_30_days")),
                "sessions_cancelled": pct(s.get("sessions_cancelled")),
                "claims_total_gbp": f"{(s.get('claims_total').amount_pence or 0) / 100:.2f}",
            }
        )
    return rows

"""The monthly report, pure: rows in (`rows`), figures out (`report.build_report`), each KPI
defined once (`kpis`), and the workbook (`workbook.render_workbook`, streamed).

    rows.py     periods and the input rows (non-personal columns only)
    facts.py    per-case facts the figures share; how a clock went
    kpi.py      what a KPI is (name, definition, section, computation) and a Figure
    kpis.py     the KPIs, each defined once, and the cover sheet's definitions
    lines.py    the case, clock and late-meeting lists
    report.py   build_report, one LA's report, the headline KPIs
    workbook.py / sheets.py / cells.py   the .xlsx, written streamed (openpyxl write-only)
"""

from reports.monthly.facts import clock_result
from reports.monthly.kpi import Figure, Kpi
from reports.monthly.kpis import CANCELLED_BY, CLAIM_STATUSES, DEFINITIONS, KPIS
from reports.monthly.lines import CaseLine, ClockLine, LateMeeting
from reports.monthly.report import MonthlyReport, ScopeFigures, TrendPoint, build_report, for_la, headline_kpis
from reports.monthly.rows import (
    CaseRow,
    CertificateRow,
    ClaimRow,
    ClockRow,
    EventRow,
    LaInfo,
    Periods,
    ReportInput,
    SessionRow,
    financial_year_start,
    month_bounds,
    parse_month,
    previous_month,
)

__all__ = [
    "CANCELLED_BY",
    "CLAIM_STATUSES",
    "DEFINITIONS",
    "KPIS",
    "CaseLine",
    "CaseRow",
    "CertificateRow",
    "ClaimRow",
    "ClockLine",
    "ClockRow",
    "EventRow",
    "Figure",
    "Kpi",
    "LaInfo",
    "LateMeeting",
    "MonthlyReport",
    "Periods",
    "ReportInput",
    "ScopeFigures",
    "SessionRow",
    "TrendPoint",
    "build_report",
    "clock_result",
    "financial_year_start",
    "for_la",
    "headline_kpis",
    "month_bounds",
    "parse_month",
    "previous_month",
]

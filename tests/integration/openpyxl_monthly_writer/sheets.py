"""The monthly workbook's sheets, each written top to bottom (see `reports.monthly.workbook`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference

from models.domain.clock_labels import clock_title
from reports.monthly.kpi import Figure
from reports.monthly.kpis import DEFINITIONS
from reports.monthly.report import MonthlyReport, ScopeFigures
from tests.integration.openpyxl_monthly_writer.cells import DATE, DATETIME, GBP, HEADER_ROW, PERCENT, Sheet

SUMMARY_HEADER = (
    "Scope",
    "Section",
    "Measure",
    "Month: count",
    "Month: out of",
    "Month: %",
    "Year to date: count",
    "Year to date: out of",
    "Year to date: %",
    "Month: £",
    "Year to date: £",
    "Figure key",
)
LA_HEADER = SUMMARY_HEADER[1:11]
CASE_HEADER = (
    "Case reference",
    "Service",
    "Decision type",
    "Received on",
    "Status now",
    "Family decision",
    "Decided on",
    "Latest certificate",
    "Certificate issued on",
    "Within 3 working days",
    "First meeting held on",
    "Within 30 days",
    "Outcome",
)
CLOCK_HEADER = (
    "Case reference",
    "LA",
    "Clock",
    "Owner",
    "Due",
    "Working-day target",
    "Met on",
    "Result",
    "Working days late",
)
LATE_HEADER = (
    "Case reference",
    "LA",
    "LA received the request",
    "Due (30 days)",
    "First meeting held",
    "Days late",
    "In this month",
    "Breach reason recorded",
)


def month_title(report: MonthlyReport) -> str:
    return report.month_start.strftime("%B %Y")


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Yes" if value else "No")


def _figure_cells(s: Sheet, month: Figure, ytd: Figure) -> list[Any]:
    """count, out of, %, count, out of, %, month £, year-to-date £."""
    cells = []
    for f in (month, ytd):
        cells += [s.cell(f.count, "0"), s.cell(f.denominator, "0"), s.cell(f.ratio, PERCENT)]
    for f in (month, ytd):
        cells.append(s.cell(None if f.amount_pence is None else f.amount_pence / 100, GBP))
    return cells


def cover(s: Sheet, report: MonthlyReport, generated_at: datetime) -> None:
    s.title("SEND Mediation and Disagreement Resolution Service: monthly report", report.scope.name)
    s.skip_to(4)
    s.row(s.cell("Month", bold=True), s.cell(month_title(report), align="left"))
    for label, start in (("Month: from", report.month_start), ("Year to date: from", report.ytd_start)):
        to = s.cell(report.month_end, DATE, align="left")
        s.row(s.cell(label, bold=True), s.cell(start, DATE, align="left"), "to", to)
    s.row(s.cell("Generated", bold=True), s.cell(generated_at.replace(tzinfo=None), DATETIME, align="left"))
    s.skip_to(10)
    s.header(("Figure", "How it is defined"))
    for name, text in DEFINITIONS:
        row = s.row(
            s.cell(name, bold=True, align="top"),
            s.cell(text, align="wrap-top"),
            height=15 * (1 + len(text) // 110),
        )
        s.ws.merged_cells.add(f"B{row}:F{row}")


def summary(s: Sheet, report: MonthlyReport) -> None:
    s.title(f"Summary: {month_title(report)} and the year to date", report.scope.name)
    s.skip_to(HEADER_ROW)
    s.header(SUMMARY_HEADER)
    scopes: Sequence[ScopeFigures] = (report.scope,) if report.single_la else (report.scope, *report.by_la)
    for scope in scopes:
        for month, ytd in zip(scope.month, scope.ytd):
            s.row(scope.name, month.section, month.label, *_figure_cells(s, month, ytd), month.key)
    s.filter(HEADER_ROW, len(SUMMARY_HEADER), s.next_row - 1)


def la_sheet(s: Sheet, report: MonthlyReport, scope: ScopeFigures) -> None:
    s.title(f"{scope.name}: {month_title(report)} and the year to date", f"ONS code {scope.code}")
    s.skip_to(HEADER_ROW)
    s.header(LA_HEADER)
    for month, ytd in zip(scope.month, scope.ytd):
        s.row(month.section, month.label, *_figure_cells(s, month, ytd))
    s.skip_to(s.next_row + 1)
    s.row(s.cell(f"Cases active in {month_title(report)} (by reference)", bold=True))
    case_header = s.header(CASE_HEADER)
    for line in (c for c in report.case_lines if c.la_code == scope.code):
        values = (
            line.ref,
            line.service,
            line.decision_type,
            line.received_on,
            line.status,
            line.family_decision,
            line.family_decision_on,
            line.certificate_type,
            line.certificate_issued_on,
            _yes_no(line.certificate_on_time),
            line.first_meeting_on,
            _yes_no(line.meeting_within_30_days),
            line.outcome,
        )
        s.row(*(s.cell(v, DATE) for v in values))
    s.ws.auto_filter.ref = f"A{case_header}:M{s.next_row - 1}"


def clocks(s: Sheet, report: MonthlyReport) -> None:
    s.title(
        f"Clocks due in {month_title(report)}",
        "Result as at the month's end; working days exclude weekends and bank holidays",
    )
    s.skip_to(HEADER_ROW)
    s.header(CLOCK_HEADER)
    for c in report.clock_lines:
        dates = (c.due, c.target, c.met_on)
        s.row(
            c.ref,
            c.la_code,
            clock_title(c.name),
            c.owner,
            *(s.cell(d, DATE) for d in dates),
            c.result,
            s.cell(c.working_days_late, "0"),
        )
    s.filter(HEADER_ROW, len(CLOCK_HEADER), s.next_row - 1)


def late(s: Sheet, report: MonthlyReport) -> None:
    s.title("First mediation meetings held after the LA's 30 days", f"Year to date from {report.ytd_start:%d %B %Y}")
    s.skip_to(HEADER_ROW)
    s.header(LATE_HEADER)
    for m in report.late_meetings:
        dates = (m.la_received_on, m.due, m.held_on)
        reason = s.cell(m.reason or "not recorded", align="wrap-top")
        s.row(
            m.ref, m.la_code, *(s.cell(d, DATE) for d in dates), s.cell(m.days_late, "0"), _yes_no(m.in_month), reason
        )
    s.filter(HEADER_ROW, len(LATE_HEADER), s.next_row - 1)


def charts(s: Sheet, report: MonthlyReport) -> None:
    s.title("Charts", month_title(report))
    s.skip_to(HEADER_ROW)
    s.header(("Local authority", "Referrals in the month", "Referrals year to date"))
    for scope in report.by_la:
        s.row(scope.name, scope.get("referrals_total").count, scope.get("referrals_total", "ytd").count)
    row = s.next_row - 1
    bar = BarChart()
    bar.type, bar.title = "col", "Referrals received per local authority"
    bar.y_axis.title, bar.x_axis.title = "Referrals", "Local authority"
    bar.add_data(Reference(s.ws, min_col=2, max_col=3, min_row=HEADER_ROW, max_row=row), titles_from_data=True)
    bar.set_categories(Reference(s.ws, min_col=1, min_row=HEADER_ROW + 1, max_row=row))
    bar.height, bar.width = 9, 18
    s.ws.add_chart(bar, "F4")

    s.skip_to(max(row + 3, HEADER_ROW + 20))
    trend_header = s.header(
        ("Month", "Certificates issued", "Trigger known", "Within 3 working days", "% within 3 working days")
    )
    for point in report.scope.trend:
        s.row(point.month, point.issued, point.with_trigger, point.on_time, s.cell(point.ratio, PERCENT))
    row = s.next_row - 1
    line = LineChart()
    line.title = f"Certificates issued within 3 working days, 12 months ({report.scope.name})"
    line.y_axis.title, line.x_axis.title = "% on time", "Month"
    line.y_axis.number_format = "0%"
    line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
    line.add_data(Reference(s.ws, min_col=5, min_row=trend_header, max_row=row), titles_from_data=True)
    for series in line.series:
        series.smooth = False
        series.marker.symbol = "circle"
    line.set_categories(Reference(s.ws, min_col=1, min_row=trend_header + 1, max_row=row))
    line.height, line.width = 9, 18
    s.ws.add_chart(line, f"G{trend_header}")

"""The monthly report as an Excel workbook (openpyxl): `render_workbook(report, generated_at) -> bytes`.

Sheets, in order:

* **Cover** — what the workbook is, its periods, when it was generated, and how each figure is
  defined (`monthly_figures.DEFINITIONS`).
* **Summary** — one row per (scope, measure): all LAs together, then each LA; month and
  year-to-date count, denominator and percentage; pounds for expense claims; the figure's key.
  Header on row `HEADER_ROW`, frozen, filtered, printed on every page.
* **one sheet per LA** — the same measures, then the cases active in the month by reference
  (no names), filtered.
* **Clocks** — every clock due in the month: met, met late, missed or open, working days late.
* **Late meetings** — first meetings held after the LA's 30 days (year to date), with the
  breach reason recorded.
* **Charts** — referrals per LA (bar chart) and a 12-month trend of certificates on time (line).

A single-LA report (`report.single_la`) renders the same sheets for that LA alone: nothing of
any other LA is in its input, so nothing can leak. Percentages are numbers formatted `0.0%`
(blank when the denominator is 0), money is pounds with a `£` format computed from pence,
dates are dates. Every text cell goes through `reports.safe_cells` (formula-injection guard).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.domain.clock_labels import clock_title
from reports.monthly_figures import DEFINITIONS, Figure, MonthlyReport, ScopeFigures
from reports.safe_cells import set_text

DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM"
PERCENT = "0.0%"
GBP = '"£"#,##0.00'
HEADER_ROW = 4
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
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def month_title(report: MonthlyReport) -> str:
    return report.month_start.strftime("%B %Y")


def la_sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title for an LA name (31 characters, no []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub(" ", name).strip()[:31] or "LA"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Yes" if value else "No")


def _put(ws: Worksheet, row: int, column: int, value, number_format: str | None = None):
    """Write one cell: text through the guard, numbers and dates as values."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
        if number_format:
            cell.number_format = number_format
    return cell


def _header(ws: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, start=1):
        cell = _put(ws, row, column, name)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[row].height = 30  # two lines: wrapped headers are not auto-sized everywhere


def _title(ws: Worksheet, title: str, subtitle: str) -> None:
    _put(ws, 1, 1, title).font = _TITLE
    _put(ws, 2, 1, subtitle)


def _widths(ws: Worksheet, widths: Iterable[float]) -> None:
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


def _print_setup(ws: Worksheet, header_row: int | None) -> None:
    """Landscape A4, fitted to one page wide; `header_row` repeated on every printed page."""
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _table(ws: Worksheet, header_row: int, names: Sequence[str], last_row: int, *, freeze: str | None = None) -> None:
    """Header styling, autofilter over the table, frozen panes and print titles."""
    _header(ws, header_row, names)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(names))}{max(last_row, header_row)}"
    ws.freeze_panes = freeze or f"A{header_row + 1}"
    _print_setup(ws, header_row)


def _figure_cells(ws: Worksheet, row: int, column: int, month: Figure, ytd: Figure) -> None:
    """count, out of, %, count, out of, %, month £, year-to-date £ from `column` on."""
    for offset, f in ((0, month), (3, ytd)):
        _put(ws, row, column + offset, f.count, "0")
        _put(ws, row, column + offset + 1, f.denominator, "0")
        _put(ws, row, column + offset + 2, f.ratio, PERCENT).number_format = PERCENT
    for offset, f in ((6, month), (7, ytd)):
        cell = _put(ws, row, column + offset, None if f.amount_pence is None else f.amount_pence / 100, GBP)
        cell.number_format = GBP


def _cover(ws: Worksheet, report: MonthlyReport, generated_at: datetime) -> None:
    ws.title = "Cover"
    _title(ws, "SEND Mediation and Disagreement Resolution Service: monthly report", report.scope.name)
    rows = (
        ("Month", month_title(report), None),
        ("Month: from", report.month_start, report.month_end),
        ("Year to date: from", report.ytd_start, report.month_end),
        ("Generated", generated_at.replace(tzinfo=None), None),
    )
    for i, (label, a, b) in enumerate(rows, start=4):
        _put(ws, i, 1, label).font = _BOLD
        _put(ws, i, 2, a, DATETIME if isinstance(a, datetime) else DATE).alignment = Alignment(horizontal="left")
        if b is not None:
            _put(ws, i, 3, "to")
            _put(ws, i, 4, b, DATE).alignment = Alignment(horizontal="left")
    start = 10
    _header(ws, start, ("Figure", "How it is defined"))
    for i, (name, text) in enumerate(DEFINITIONS, start=start + 1):
        label = _put(ws, i, 1, name)
        label.font, label.alignment = _BOLD, Alignment(vertical="top")
        _put(ws, i, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=6)
        ws.row_dimensions[i].height = 15 * (1 + len(text) // 110)
    _widths(ws, (26, 16, 6, 16, 40, 40))
    _print_setup(ws, None)


def _summary(ws: Worksheet, report: MonthlyReport) -> None:
    _title(ws, f"Summary: {month_title(report)} and the year to date", report.scope.name)
    scopes: Sequence[ScopeFigures] = (report.scope,) if report.single_la else (report.scope, *report.by_la)
    row = HEADER_ROW
    for scope in scopes:
        for month, ytd in zip(scope.month, scope.ytd):
            row += 1
            _put(ws, row, 1, scope.name)
            _put(ws, row, 2, month.section)
            _put(ws, row, 3, month.label)
            _figure_cells(ws, row, 4, month, ytd)
            _put(ws, row, 12, month.key)
    _table(ws, HEADER_ROW, SUMMARY_HEADER, row, freeze=f"D{HEADER_ROW + 1}")
    _widths(ws, (24, 22, 58, 10, 10, 9, 12, 12, 9, 12, 13, 34))


def _la_sheet(ws: Worksheet, report: MonthlyReport, scope: ScopeFigures) -> None:
    _title(ws, f"{scope.name}: {month_title(report)} and the year to date", f"ONS code {scope.code}")
    row = HEADER_ROW
    for month, ytd in zip(scope.month, scope.ytd):
        row += 1
        _put(ws, row, 1, month.section)
        _put(ws, row, 2, month.label)
        _figure_cells(ws, row, 3, month, ytd)
    _header(ws, HEADER_ROW, LA_HEADER)
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    _print_setup(ws, HEADER_ROW)
    row += 2
    _put(ws, row, 1, f"Cases active in {month_title(report)} (by reference)").font = _BOLD
    case_header = row + 1
    row = case_header
    for line in (c for c in report.case_lines if c.la_code == scope.code):
        row += 1
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
        for column, value in enumerate(values, start=1):
            _put(ws, row, column, value, DATE)
    _header(ws, case_header, CASE_HEADER)
    ws.auto_filter.ref = f"A{case_header}:{get_column_letter(len(CASE_HEADER))}{row}"
    _widths(ws, (22, 58, 18, 12, 14, 15, 12, 16, 13, 13, 14, 12, 12))


def _clocks(ws: Worksheet, report: MonthlyReport) -> None:
    _title(
        ws,
        f"Clocks due in {month_title(report)}",
        "Result as at the month's end; working days exclude weekends and bank holidays",
    )
    row = HEADER_ROW
    for c in report.clock_lines:
        row += 1
        for column, value in enumerate(
            (c.ref, c.la_code, clock_title(c.name), c.owner, c.due, c.target, c.met_on, c.result, c.working_days_late),
            start=1,
        ):
            _put(ws, row, column, value, "0" if column == 9 else DATE)
    _table(ws, HEADER_ROW, CLOCK_HEADER, row)
    _widths(ws, (18, 12, 60, 10, 12, 12, 12, 14, 12))


def _late(ws: Worksheet, report: MonthlyReport) -> None:
    _title(ws, "First mediation meetings held after the LA's 30 days", f"Year to date from {report.ytd_start:%d %B %Y}")
    row = HEADER_ROW
    for m in report.late_meetings:
        row += 1
        for column, value in enumerate(
            (
                m.ref,
                m.la_code,
                m.la_received_on,
                m.due,
                m.held_on,
                m.days_late,
                _yes_no(m.in_month),
                m.reason or "not recorded",
            ),
            start=1,
        ):
            _put(ws, row, column, value, "0" if column == 6 else DATE)
        ws.cell(row=row, column=8).alignment = Alignment(wrap_text=True, vertical="top")
    _table(ws, HEADER_ROW, LATE_HEADER, row)
    _widths(ws, (18, 12, 14, 14, 14, 10, 10, 60))


def _charts(ws: Worksheet, report: MonthlyReport) -> None:
    _title(ws, "Charts", month_title(report))
    _header(ws, HEADER_ROW, ("Local authority", "Referrals in the month", "Referrals year to date"))
    row = HEADER_ROW
    for scope in report.by_la:
        row += 1
        _put(ws, row, 1, scope.name)
        _put(ws, row, 2, scope.get("referrals_total").count)
        _put(ws, row, 3, scope.get("referrals_total", "ytd").count)
    bar = BarChart()
    bar.type, bar.title = "col", "Referrals received per local authority"
    bar.y_axis.title, bar.x_axis.title = "Referrals", "Local authority"
    bar.add_data(Reference(ws, min_col=2, max_col=3, min_row=HEADER_ROW, max_row=row), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=HEADER_ROW + 1, max_row=row))
    bar.height, bar.width = 9, 18
    ws.add_chart(bar, "F4")

    trend_header = max(row + 3, HEADER_ROW + 20)
    _header(
        ws,
        trend_header,
        ("Month", "Certificates issued", "Trigger known", "Within 3 working days", "% within 3 working days"),
    )
    row = trend_header
    for point in report.scope.trend:
        row += 1
        _put(ws, row, 1, point.month)
        _put(ws, row, 2, point.issued)
        _put(ws, row, 3, point.with_trigger)
        _put(ws, row, 4, point.on_time)
        _put(ws, row, 5, point.ratio, PERCENT).number_format = PERCENT
    line = LineChart()
    line.title = f"Certificates issued within 3 working days, 12 months ({report.scope.name})"
    line.y_axis.title, line.x_axis.title = "% on time", "Month"
    line.y_axis.number_format = "0%"
    line.y_axis.scaling.min, line.y_axis.scaling.max = 0, 1
    line.add_data(Reference(ws, min_col=5, min_row=trend_header, max_row=row), titles_from_data=True)
    for series in line.series:
        series.smooth = False
        series.marker.symbol = "circle"
    line.set_categories(Reference(ws, min_col=1, min_row=trend_header + 1, max_row=row))
    line.height, line.width = 9, 18
    ws.add_chart(line, f"G{trend_header}")
    _widths(ws, (24, 14, 14, 14, 14))
    _print_setup(ws, None)


def render_workbook(report: MonthlyReport, generated_at: datetime) -> bytes:
    """The report as .xlsx bytes. `generated_at` is shown (local time, without its zone) on the cover."""
    wb = Workbook()
    _cover(wb.active, report, generated_at)
    _summary(wb.create_sheet("Summary"), report)
    taken = {"cover", "summary", "clocks", "late meetings", "charts"}
    for scope in report.by_la:
        _la_sheet(wb.create_sheet(la_sheet_title(scope.name, taken)), report, scope)
    _clocks(wb.create_sheet("Clocks"), report)
    _late(wb.create_sheet("Late meetings"), report)
    _charts(wb.create_sheet("Charts"), report)
    # fixed document times: the same figures give the same file contents apart from the cover
    wb.properties.created = wb.properties.modified = generated_at.replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "drs-flows"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

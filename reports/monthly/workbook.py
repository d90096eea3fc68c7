"""The monthly report as an Excel workbook, streamed: `write_workbook(report, generated_at, target)`.

Sheets, in order:

* **Cover** — what the workbook is, its periods, when it was generated, and how each figure is
  defined (`reports.monthly.kpis.DEFINITIONS`: every KPI's definition, from the KPI itself).
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

Each sheet's rows are streamed into the file's zip archive as they are appended
(`reports.monthly.stream`), so a workbook of any size is never held in memory cell by cell;
the rest of the file (styles, workbook part, charts) is written by openpyxl.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook

from reports.monthly import sheets
from reports.monthly.cells import HEADER_ROW, Sheet, add_sheet
from reports.monthly.parts import PartsWriter
from reports.monthly.report import MonthlyReport, lines_by_la

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_WIDTHS = {
    "cover": (26, 16, 6, 16, 40, 40),
    "summary": (24, 22, 58, 10, 10, 9, 12, 12, 9, 12, 13, 34),
    "la": (22, 58, 18, 12, 14, 15, 12, 16, 13, 13, 14, 12, 12),
    "clocks": (18, 12, 60, 10, 12, 12, 12, 14, 12),
    "late": (18, 12, 14, 14, 14, 10, 10, 60),
    "charts": (24, 14, 14, 14, 14),
}


def la_sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title for an LA name (31 characters, no []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub(" ", name).strip()[:31] or "LA"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


class _Sheets:
    """The sheets of one workbook, each streamed into `archive` and closed before the next."""

    def __init__(self, report: MonthlyReport, archive: ZipFile) -> None:
        self.wb = Workbook(write_only=True)
        self.report = report
        self.archive = archive

    def write(self, fill: Callable[..., None], title: str, widths: str, *args: Any, **layout: Any) -> None:
        """Sheet `title` written by `fill(sheet, report, *args)`; `layout`: freeze, print_rows."""
        ws = add_sheet(self.wb, title, self.archive)
        try:
            sheet = Sheet(ws, _WIDTHS[widths], freeze=layout.get("freeze"))
            sheet.print_setup(HEADER_ROW if layout.get("print_rows", True) else None)
            fill(sheet, self.report, *args)
        finally:
            ws.close()  # the zip member is closed even on an error (the error, not the zip's, is raised)


def write_workbook(report: MonthlyReport, generated_at: datetime, target: str | Path | BinaryIO) -> None:
    """Write the report as .xlsx to `target` (a path or a binary file). `generated_at` is shown
    (local time, without its zone) on the cover."""
    with ZipFile(target, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        books = _Sheets(report, archive)
        books.write(sheets.cover, "Cover", "cover", generated_at, print_rows=False)
        books.write(sheets.summary, "Summary", "summary", freeze=f"D{HEADER_ROW + 1}")
        taken = {"cover", "summary", "clocks", "late meetings", "charts"}
        lines = lines_by_la(report.case_lines)
        for scope in report.by_la:
            title = la_sheet_title(scope.name, taken)
            books.write(sheets.la_sheet, title, "la", scope, lines.get(scope.code, ()), freeze=f"C{HEADER_ROW + 1}")
        books.write(sheets.clocks, "Clocks", "clocks", freeze=f"A{HEADER_ROW + 1}")
        books.write(sheets.late, "Late meetings", "late", freeze=f"A{HEADER_ROW + 1}")
        books.write(sheets.charts, "Charts", "charts", print_rows=False)
        # fixed document times: the same figures give the same file contents apart from the cover
        # (`Workbook.save` would stamp "modified" with the clock; its writer, called directly, does not)
        wb = books.wb
        wb.properties.created = wb.properties.modified = generated_at.replace(tzinfo=None, microsecond=0)
        wb.properties.creator = "drs-flows"
        PartsWriter(wb, archive).write_data()


def render_workbook(report: MonthlyReport, generated_at: datetime) -> bytes:
    """The report as .xlsx bytes (`write_workbook` into memory)."""
    buffer = io.BytesIO()
    write_workbook(report, generated_at, buffer)
    return buffer.getvalue()

"""Streamed worksheet writing (openpyxl write-only): rows appended in order, every text through
the formula-injection guard (`reports.safe_cells`), styles shared, layout set before the rows.

In write-only mode a sheet's column widths, frozen panes and page properties are written before
its first row, and a row's height with the row: `Sheet` takes them first, then the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from reports.safe_cells import safe_text

DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM"
PERCENT = "0.0%"
GBP = '"£"#,##0.00'
HEADER_ROW = 4

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
ALIGN = {
    "wrap-top": Alignment(wrap_text=True, vertical="top"),
    "top": Alignment(vertical="top"),
    "left": Alignment(horizontal="left"),
}


class Sheet:
    """One write-only worksheet: `row(...)` appends the next row; `skip_to(n)` leaves rows empty."""

    def __init__(self, ws: WriteOnlyWorksheet, widths: Iterable[float], *, freeze: str | None = None) -> None:
        self.ws = ws
        self.next_row = 1
        self._styles: dict[tuple, Any] = {}
        for column, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(column)].width = width
        if freeze:
            ws.freeze_panes = freeze

    def print_setup(self, header_row: int | None) -> None:
        """Landscape A4, fitted to one page wide; `header_row` repeated on every printed page."""
        if header_row is not None:
            self.ws.print_title_rows = f"{header_row}:{header_row}"
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True

    def cell(
        self,
        value: Any,
        fmt: str | None = None,
        *,
        bold: bool = False,
        font: Font | None = None,
        fill: bool = False,
        align: str | None = None,
    ) -> Any:
        """A cell: text through the guard (never a formula), numbers and dates as values with `fmt`."""
        text = isinstance(value, str)
        if text:
            value = safe_text(value)
        key = (None if text else fmt, font or (BOLD if bold else None), fill, align)
        if key == (None, None, False, None):
            return value  # plain text (guarded), a number or None: no cell object needed
        proto = self._styles.get(key)
        if proto is None:
            proto = self._styles[key] = WriteOnlyCell(self.ws)
            if key[0]:
                proto.number_format = key[0]
            if key[1] is not None:
                proto.font = key[1]
            if fill:
                proto.fill = HEAD_FILL
            if align:
                proto.alignment = ALIGN[align]
        cell = WriteOnlyCell(self.ws, value)
        cell._style = copy(proto._style)
        if text and value is not None:
            cell.data_type = "s"
        return cell

    def row(self, *values: Any, height: float | None = None) -> int:
        """Append a row (cells or plain values, text guarded); returns its number."""
        if height is not None:
            self.ws.row_dimensions[self.next_row].height = height
        self.ws.append([safe_text(v) if isinstance(v, str) else v for v in values])
        self.next_row += 1
        return self.next_row - 1

    def skip_to(self, row: int) -> None:
        while self.next_row < row:
            self.row()

    def header(self, names: Sequence[str]) -> int:
        """A header row: bold on a tinted fill, wrapped, two lines high."""
        return self.row(*(self.cell(n, bold=True, fill=True, align="wrap-top") for n in names), height=30)

    def title(self, title: str, subtitle: str) -> None:
        self.row(self.cell(title, font=TITLE))
        self.row(subtitle)

    def filter(self, first_row: int, columns: int, last_row: int) -> None:
        self.ws.auto_filter.ref = f"A{first_row}:{get_column_letter(columns)}{max(last_row, first_row)}"

"""Streamed worksheet writing: rows appended in order, every text through the formula-injection
guard (`reports.safe_cells`), styles shared, layout set before the rows.

The sheets are openpyxl write-only worksheets whose rows are formatted directly as XML text and
streamed straight into the workbook's zip archive (`reports.monthly.stream`, issue 14). As in
openpyxl's write-only mode, a sheet's column widths, frozen panes and page properties are
written before its first row, and a row's height with the row: `Sheet` takes them first, then
the rows; `close()` ends the sheet (its filter, merged cells, page setup and charts are written
then).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from zipfile import ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.monthly.stream import StreamedWorksheet, Styled
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
_PLAIN = (None, None, False, None)


_FONT_KEYS = {id(BOLD): "bold", id(TITLE): "title"}  # a style key names these fonts (a Font hashes slowly)
_FONTS = {"bold": BOLD, "title": TITLE}


def _styled_cell(ws: StreamedWorksheet, key: tuple) -> Any:
    fmt, font, fill, align = key
    font = _FONTS.get(font, font) if isinstance(font, str) else font
    cell = WriteOnlyCell(ws)
    if fmt:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    if fill:
        cell.fill = HEAD_FILL
    if align:
        cell.alignment = ALIGN[align]
    return cell


def add_sheet(wb: Workbook, title: str, archive: ZipFile | None = None) -> StreamedWorksheet:
    """A new streamed sheet at the end of write-only workbook `wb` (what `wb.create_sheet` does).

    With `archive` (the zip the workbook is being written to) the sheet's part is streamed
    straight into it: close each sheet before the next one is added, and all before the rest of
    the workbook is written. Without, it goes to a temporary file that `wb.save` copies."""
    ws = StreamedWorksheet(parent=wb, title=title)
    ws.make_style = _styled_cell
    wb._add_sheet(ws)
    if archive is not None:
        ws._id = len(wb._sheets)  # the part's number, as openpyxl's writer will number it
        ws._out = archive.open(ws.path[1:], "w")
    return ws


class Sheet:
    """One streamed worksheet: `row(...)` appends the next row; `skip_to(n)` leaves rows empty."""

    def __init__(self, ws: StreamedWorksheet, widths: Iterable[float], *, freeze: str | None = None) -> None:
        self.ws = ws
        self.next_row = 1
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
        if font is None:
            font_key: Any = "bold" if bold else None
        else:
            font_key = _FONT_KEYS.get(id(font), font)
        key = (None if text else fmt, font_key, fill, align)
        if key == _PLAIN:
            return value  # plain text (guarded), a number or None: written as a value
        return Styled(value, key)  # its cell is made by `_styled_cell` when the sheet first writes it

    def close(self) -> None:
        """End the sheet: its filter, merged cells, page setup and charts are written now."""
        self.ws.close()

    def row(self, *values: Any, height: float | None = None) -> int:
        """Append a row (styled or plain values, text guarded); returns its number."""
        if height is not None:
            self.ws.row_dimensions[self.next_row].height = height
        self.ws.append([safe_text(v) if type(v) is str else v for v in values])
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

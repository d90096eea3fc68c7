"""Parts reused across workbooks (`reports.monthly.parts`) are the XML openpyxl writes for each
workbook: a different style table gives a different stylesheet, the same gives the same bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any
from zipfile import ZipFile

from openpyxl import Workbook
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.xml.functions import tostring

from reports.monthly.cells import DATE, PERCENT, Sheet, add_sheet
from reports.monthly.parts import PartsWriter


def _book(values: Callable[[Sheet], list[Any]], freeze: str | None = None) -> tuple[bytes, bytes, bytes]:
    """(styles.xml written, openpyxl's stylesheet for the same workbook, the sheet part)."""
    buffer = io.BytesIO()
    with ZipFile(buffer, "w") as archive:
        wb = Workbook(write_only=True)
        ws = add_sheet(wb, "Sheet", archive)
        sheet = Sheet(ws, (10, 12), freeze=freeze)
        sheet.row(*values(sheet))
        ws.close()
        PartsWriter(wb, archive).write_data()
    with ZipFile(buffer) as z:
        return z.read("xl/styles.xml"), tostring(write_stylesheet(wb)), z.read("xl/worksheets/sheet1.xml")


def test_each_workbook_gets_its_own_stylesheet() -> None:
    variants = [
        lambda s: ["plain", s.cell("bold", bold=True)],
        lambda s: [s.cell(0.5, PERCENT), s.cell("head", bold=True, fill=True, align="wrap-top")],
        lambda s: [s.cell(date(2026, 10, 1), DATE), s.cell(3, "0")],
        lambda s: [s.cell(date(2026, 10, 1), "0")],  # a date under a number format: openpyxl's date format
        lambda s: ["plain", s.cell("bold", bold=True)],
    ]
    written = []
    for values in variants:
        got, expected, _ = _book(values)
        assert got == expected
        written.append(got)
    assert len(set(written)) == 4 and written[0] == written[-1]


def test_sheet_top_follows_the_layout() -> None:
    tops = [_book(lambda s: ["x"], freeze)[2] for freeze in (None, "A2", None, "B3")]
    assert tops[0] == tops[2] and len(set(tops)) == 3
    assert b'<pane xSplit="1" ySplit="2"' in tops[3] and b"<pane" not in tops[0]

"""The streamed worksheet of the monthly workbook (`reports.monthly.cells`): every text guarded
against formulas, styles kept per cell, and a plain date's format not leaking to the next value."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook, load_workbook

from reports.monthly.cells import DATE, PERCENT, Sheet, add_sheet


def _written(*rows: tuple) -> list[list[tuple]]:
    wb = Workbook(write_only=True)
    sheet = Sheet(add_sheet(wb, "x"), (10, 20), freeze="A2")
    for row in rows:
        sheet.row(*(value(sheet) if callable(value) else value for value in row))
    buffer = io.BytesIO()
    wb.save(buffer)
    ws = load_workbook(buffer)["x"]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["B"].width == 20
    return [[(c.value, c.number_format, c.data_type, bool(c.font.b)) for c in row] for row in ws.iter_rows()]


def test_text_is_guarded_plain_or_styled():
    (row,) = _written(("=1+1", lambda s: s.cell('=HYPERLINK("x")', bold=True), "+2", "plain"))
    assert [c[0] for c in row] == ["'=1+1", '\'=HYPERLINK("x")', "'+2", "plain"]
    assert {c[2] for c in row} == {"s"} and [c[3] for c in row] == [False, True, False, False]


def test_styles_stay_with_their_cells():
    (row,) = _written(
        (date(2026, 1, 2), 5, lambda s: s.cell(date(2026, 1, 3), DATE), 7, lambda s: s.cell(0.5, PERCENT), 9)
    )
    formats = [c[1] for c in row]
    assert formats[1] == formats[3] == formats[5] == "General"  # a plain date's format does not leak
    assert formats[2] == DATE and formats[4] == PERCENT and row[0][2] == "d"

"""The finance batch workbook, rendered and read back with openpyxl (pure: no database)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from reports.claims_workbook import BatchHeader, BatchLine, render_batch_workbook

HEADER = BatchHeader(
    "EXP-E08000006-20261127-01",
    "Salford",
    date(2026, 11, 3),
    date(2026, 11, 20),
    datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("Europe/London")),
)


def line(n, amount, name="Pat Example", **kw):
    base = dict(
        claim_id=f"C-{n}",
        case_ref=f"DRS-2026-{n:05d}",
        session_date=date(2026, 11, 3),
        category="parking",
        miles=None,
        rate_pence=None,
        amount_pence=amount,
        receipt=False,
        payee_name=name,
        payee_email="pat@families.example.org",
    )
    base.update(kw)
    return BatchLine(**base)


def read(lines):
    return load_workbook(io.BytesIO(render_batch_workbook(HEADER, lines))).active


def test_totals_reconcile_to_the_penny_over_awkward_amounts():
    amounts = [1, 2, 3, 10, 33, 67, 99, 101, 1499, 2340, 9999, 123457] * 25  # 300 lines
    ws = read([line(i, a) for i, a in enumerate(amounts)])
    cells = [ws.cell(row=7 + i, column=7).value for i in range(len(amounts))]
    assert [round(Decimal(str(v)) * 100) for v in cells] == amounts
    total = ws.cell(row=7 + len(amounts), column=7)
    assert ws.cell(row=7 + len(amounts), column=1).value == f"Total ({len(amounts)} claims)"
    assert round(Decimal(str(total.value)) * 100) == sum(amounts)
    assert total.number_format == '"£"#,##0.00'


def test_header_formats_and_layout():
    ws = read([line(1, 923, category="mileage", miles=Decimal("20.5"), rate_pence=45)])
    assert ws["A1"].value == "Expense claims for mediation — Salford"
    assert ws["B2"].value == "EXP-E08000006-20261127-01"
    assert ws["B3"].value == datetime(2026, 11, 3) and ws["D3"].value == datetime(2026, 11, 20)
    assert ws["B4"].value == datetime(2026, 11, 27, 9, 15) and ws["B4"].number_format == "DD/MM/YYYY HH:MM"
    assert [c.value for c in ws[6]] == [
        "Claim ID",
        "Case reference",
        "Session date",
        "Category",
        "Miles",
        "Rate per mile",
        "Amount",
        "Receipt",
        "Payee name",
        "Payee email",
    ]
    row = [c for c in ws[7]]
    assert row[2].value == datetime(2026, 11, 3) and row[2].number_format == "DD/MM/YYYY"
    assert row[3].value == "Mileage"
    assert (row[4].value, row[4].number_format) == (20.5, "0.0#")
    assert (row[5].value, row[5].number_format) == (0.45, '"£"#,##0.00')
    assert (row[6].value, row[6].data_type) == (9.23, "n")
    assert ws.freeze_panes == "A7" and ws.auto_filter.ref == "A6:J7"


def test_hostile_text_stays_text():
    hostile = ['=HYPERLINK("http://evil.example","Click")', "+1", "-2", "@x", "\t=1+1", "\r=1+1"]
    ws = read([line(i, 100, name=h, claim_id=h) for i, h in enumerate(hostile)])
    for i, h in enumerate(hostile):
        for col in (1, 9):
            cell = ws.cell(row=7 + i, column=col)
            assert cell.data_type == "s" and cell.value == "'" + h
    assert all(c.data_type != "f" for c in ws._cells.values())


def test_empty_batch_still_renders():
    ws = read([])
    assert ws["A7"].value == "Total (0 claims)" and ws["G7"].value == 0

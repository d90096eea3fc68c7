"""The batch workbook an LA's finance team pays from: one row per claim line, a totals row.

`render_batch_workbook(batch, lines) -> bytes` (an .xlsx). Layout (sheet "Claims"):

    row 1   Expense claims for mediation — <LA name>
    row 2   Batch | <batch ref>
    row 3   Period (session dates) | <first> | to | <last>
    row 4   Generated | <local date-time>
    row 6   header: Claim ID, Case reference, Session date, Category, Miles, Rate per mile,
            Amount, Receipt, Payee name, Payee email
    row 7…  one row per claim line (frozen header above, autofilter over the table)
    then    Total (n claims) … <amount total>

Money cells are numbers in pounds with a GBP number format, computed from integer pence (the
total is the sum of the pence, so it reconciles to the penny); dates are dates; every piece
of user text goes through `reports.safe_cells`. The payee's name and email appear (finance pays
them); nothing about the child does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from models.domain.expenses import CATEGORY_WORDS
from reports.safe_cells import set_text

GBP = '"£"#,##0.00'
DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM"
MILES = "0.0#"  # 12.5 shows 12.5, 12.25 shows 12.25 (the value priced)
HEADER = (
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
)
HEADER_ROW = 6


@dataclass(frozen=True)
class BatchHeader:
    batch_ref: str
    la_name: str
    period_start: date
    period_end: date
    generated_at: datetime  # local time (shown as it is, without a zone)


@dataclass(frozen=True)
class BatchLine:
    claim_id: str
    case_ref: str
    session_date: date
    category: str
    miles: Decimal | None
    rate_pence: int | None
    amount_pence: int
    receipt: bool
    payee_name: str | None
    payee_email: str | None


def money(pence: int) -> Decimal:
    """Pounds as an exact Decimal (written as a number)."""
    return Decimal(pence) / 100


def render_batch_workbook(header: BatchHeader, lines: Sequence[BatchLine]) -> bytes:
    """The .xlsx bytes for one batch."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Claims"
    bold = Font(bold=True)
    set_text(ws.cell(row=1, column=1), f"Expense claims for mediation — {header.la_name}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value="Batch").font = bold
    set_text(ws.cell(row=2, column=2), header.batch_ref)
    ws.cell(row=3, column=1, value="Period (session dates)").font = bold
    for col, value in ((2, header.period_start), (4, header.period_end)):
        cell = ws.cell(row=3, column=col, value=value)
        cell.number_format = DATE
    ws.cell(row=3, column=3, value="to")
    ws.cell(row=4, column=1, value="Generated").font = bold
    generated = ws.cell(row=4, column=2, value=header.generated_at.replace(tzinfo=None))
    generated.number_format = DATETIME

    for col, title in enumerate(HEADER, start=1):
        ws.cell(row=HEADER_ROW, column=col, value=title).font = bold
    row = HEADER_ROW
    for line in lines:
        row += 1
        set_text(ws.cell(row=row, column=1), line.claim_id)
        set_text(ws.cell(row=row, column=2), line.case_ref)
        ws.cell(row=row, column=3, value=line.session_date).number_format = DATE
        ws.cell(row=row, column=4, value=CATEGORY_WORDS.get(line.category, line.category).capitalize())
        if line.miles is not None:
            ws.cell(row=row, column=5, value=Decimal(line.miles)).number_format = MILES
        if line.rate_pence is not None:
            ws.cell(row=row, column=6, value=money(line.rate_pence)).number_format = GBP
        ws.cell(row=row, column=7, value=money(line.amount_pence)).number_format = GBP
        ws.cell(row=row, column=8, value="Yes" if line.receipt else "No")
        set_text(ws.cell(row=row, column=9), line.payee_name)
        set_text(ws.cell(row=row, column=10), line.payee_email)
    last = row
    total_row = last + 1
    ws.cell(row=total_row, column=1, value=f"Total ({len(lines)} claim{'' if len(lines) == 1 else 's'})").font = bold
    total = ws.cell(row=total_row, column=7, value=money(sum(line.amount_pence for line in lines)))
    total.number_format = GBP
    total.font = bold

    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:J{max(last, HEADER_ROW)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"  # the column headings on every printed page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for letter, width in zip("ABCDEFGHIJ", (16, 16, 13, 18, 8, 13, 12, 9, 26, 32)):
        ws.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

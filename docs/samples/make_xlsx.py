"""Write the XLSX samples of docs/formats.md: `referrals.xlsx` and `claims.xlsx`.

    .venv/bin/python docs/samples/make_xlsx.py            # rewrites both next to this script
    .venv/bin/python docs/samples/make_xlsx.py OUT_DIR    # writes them into OUT_DIR

The first sheet, a header row of the contract's column names, one record a row. Dates are real
date cells (as a spreadsheet user types them); text such as "B;F" or "yes" is text. The test
`tests/integration/test_docs_samples.py` checks the committed files hold exactly these rows and
imports them through `drs intake` and `drs claims import`.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

REFERRAL_COLUMNS = (
    "form_id",
    "submitted_at",
    "service",
    "requester_role",
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_postcode",
    "child_name",
    "child_date_of_birth",
    "local_authority",
    "decision_type",
    "decision_letter_sent_on",
    "sections",
    "health_issues",
    "social_care_issues",
    "wants_mediation",
    "consent_to_contact_la",
    "notes",
)
REFERRAL_ROWS = (
    (
        "TT-48217",
        datetime(2026, 11, 25, 15, 20),
        "mediation",
        "parent",
        "Nico Sample",
        "nico.sample@families.example",
        "0161 496 0001",
        "M1 1AE",
        "Rowan Sample",
        date(2010, 9, 15),
        "E08000003",
        "cease_plan",
        date(2026, 11, 18),
        None,
        "no",
        "no",
        "yes",
        "yes",
        None,
    ),
    (
        "TT-48218",
        datetime(2026, 11, 26, 8, 5),
        "mediation",
        "parent",
        "Dee Fictional",
        "dee.fictional@families.example",
        None,
        None,
        "Sky Fictional",
        date(2013, 1, 8),
        "Bolton",
        "plan_contents",
        date(2026, 11, 9),
        "I",
        "no",
        "no",
        "undecided",
        "no",
        "Only the school named in section I is disputed.",
    ),
)
CLAIM_COLUMNS = (
    "claim_id",
    "case_ref",
    "session_date",
    "claimant_name",
    "claimant_email",
    "category",
    "miles",
    "amount",
    "receipt",
    "description",
)
CLAIM_ROWS = (
    (
        "TT-C-1046",
        "DRS-2026-00001",
        date(2026, 12, 7),
        "Sam Example",
        "sam.example@families.example",
        "public_transport",
        None,
        8.4,
        "yes",
        "Bus fares for a supporter",
    ),
)


def write(path: Path, columns: tuple[str, ...], rows: tuple[tuple, ...]) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(columns)
    for row in rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ws.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    wb.save(path)
    return path


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        write(out / "referrals.xlsx", REFERRAL_COLUMNS, REFERRAL_ROWS),
        write(out / "claims.xlsx", CLAIM_COLUMNS, CLAIM_ROWS),
    ]


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent):
        print(written)

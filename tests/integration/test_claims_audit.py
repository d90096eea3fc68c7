"""Acceptance-audit cases for expense claims: miles × rate exactly, UK dates, result lines, batch layout."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from tests.integration.test_claims_support import claim, claims_by_id, make_case, write_csv

SALFORD, MANCHESTER = "E08000006", "E08000003"
KEYS = {"source", "claim_id", "status", "case_ref", "new", "amount_pence", "reasons", "errors"}


def test_mileage_is_the_miles_given_times_the_rate_not_rounded_miles(las, drs, tmp_path):
    s, m = make_case(SALFORD, 1), make_case(MANCHESTER, 2)
    rows = [
        claim("C-1", s, 1, miles="12.25"),  # 12.25 × 45p = 551.25 -> £5.51 (12.3 miles would be £5.54)
        claim("C-2", m, 2, miles="4.25"),
    ]  # 4.25 × 40p = 170 exactly (4.3 would be 172)
    doc = drs("claims", "import", str(write_csv(tmp_path / "c.csv", rows)), "--today", "2026-11-27", "--json").json()
    assert {r["claim_id"]: r["amount_pence"] for r in doc["results"]} == {"C-1": 551, "C-2": 170}
    stored = claims_by_id()
    assert stored["C-1"].miles == Decimal("12.25") and stored["C-1"].amount_pence == 551
    # the same file again is a duplicate, not an "update" (stored miles compare equal)
    again = drs("claims", "import", str(tmp_path / "c.csv"), "--today", "2026-11-27", "--json").json()
    assert again["duplicates"] == 2 and again["updated"] == 0
    route = drs("claims", "route", "--today", "2026-11-27", "--json").json()
    salford = next(b for b in route["batches"] if b["la"] == SALFORD)
    ws = load_workbook(io.BytesIO(open(salford["path"], "rb").read())).active
    assert ws["E7"].value == 12.25 and ws["G7"].value == 5.51 and ws["G8"].value == 5.51
    assert ws["A8"].value == "Total (1 claim)"
    assert ws.print_title_rows == "$6:$6" or ws.print_title_rows == "6:6"


def test_every_result_line_has_the_same_keys(las, drs, tmp_path):
    s = make_case(SALFORD, 1)
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    rows = [
        claim("C-1", s, 1, "parking", amount="3"),
        claim("C-1", s, 1, "parking", amount="3"),
        claim("C-2", "DRS-2099-00001", 1, "parking", amount="3"),
    ]
    doc = drs(
        "claims", "import", str(write_csv(tmp_path / "c.csv", rows)), str(bad), "--today", "2026-11-27", "--json"
    ).json()
    assert [r["status"] for r in doc["results"]] == ["approved", "duplicate", "invalid", "invalid"]
    for r in doc["results"]:
        assert set(r) == KEYS, r


def test_uk_dates_are_read_day_first(las, drs, tmp_path):
    s = make_case(SALFORD, 1)
    rows = [claim("C-1", s, 1, "parking", amount="3", session_date="10/11/2026")]  # 10 November, not 11 October
    doc = drs("claims", "import", str(write_csv(tmp_path / "c.csv", rows)), "--today", "2026-11-27", "--json").json()
    assert doc["approved"] == 1, doc
    assert claims_by_id()["C-1"].session_date == date(2026, 11, 10)
    drs("claims", "route", "--today", "2026-11-27")
    remit = tmp_path / "remit.csv"
    remit.write_text("Claim ID,Paid on\nC-1,04/12/2026\n")
    paid = drs("claims", "paid", str(remit), "--today", "2026-12-07", "--json")
    assert paid.exit_code == 0 and paid.json()["paid"] == 1, paid.stdout
    assert claims_by_id()["C-1"].paid_on == date(2026, 12, 4)
    remit.write_text("Claim ID,Paid on\nC-1,12/31/2026\n")  # month first: not a UK date, reported
    assert drs("claims", "paid", str(remit), "--today", "2026-12-07", "--json").json()["errors"][0]["claim_id"] == "C-1"

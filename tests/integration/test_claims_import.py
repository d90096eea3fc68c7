"""`drs claims import`: claims in from JSON, CSV and XLSX, checked against each LA's policy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.integration.test_claims_support import (
    claim,
    claims_by_id,
    make_case,
    outbox,
    write_csv,
    write_json,
    write_xlsx,
)

SALFORD, MANCHESTER, BWD = "E08000006", "E08000003", "E06000008"


@pytest.fixture
def cases(las):
    return {
        "salford": make_case(SALFORD, 1, supporter=("Sam Supporter", "sam@support.example.org")),
        "manchester": make_case(MANCHESTER, 2),
        "drs": make_case(SALFORD, 3, service="drs"),
        "no_meeting": make_case(SALFORD, 4, meeting=None),
        "future": make_case(BWD, 5, meeting=date(2026, 12, 10), status="scheduled"),
    }


def test_import_checks_each_claim_against_its_la_policy(cases, drs, tmp_path):
    s, m = cases["salford"], cases["manchester"]
    rows = [
        claim("C-1", s, 1, miles="20.5"),  # 20.5 × 45p = £9.23
        claim("C-2", m, 2, miles="20.5"),  # Manchester 40p = £8.20
        claim("C-3", s, 1, "parking", amount="12.00"),  # Salford threshold £10: query
        claim("C-4", m, 2, "parking", amount="12.00"),  # Manchester threshold £20: ok
        claim("C-5", cases["drs"], 3, miles="10"),  # DRS: rejected
        claim("C-6", s, 1, "parking", amount="4.50", name="Sam Supporter", email="sam@support.example.org"),
        claim("C-7", s, 1, "meal", amount="6", name="Someone Else", email="else@example.org"),  # held
        claim("C-8", cases["no_meeting"], 4, miles="5"),  # no meeting: rejected
        claim("C-9", cases["future"], 5, miles="5", session_date="2026-12-10"),
    ]
    result = drs("claims", "import", str(write_csv(tmp_path / "claims.csv", rows)), "--today", "2026-11-27", "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    statuses = {r["claim_id"]: r["status"] for r in doc["results"]}
    assert statuses == {
        "C-1": "approved",
        "C-2": "approved",
        "C-3": "query",
        "C-4": "approved",
        "C-5": "rejected",
        "C-6": "approved",
        "C-7": "held",
        "C-8": "rejected",
        "C-9": "rejected",
    }
    assert doc["imported"] == 9 and doc["approved"] == 4 and doc["query"] == 1 and doc["held"] == 1
    stored = claims_by_id()
    assert (stored["C-1"].amount_pence, stored["C-1"].rate_pence, stored["C-1"].miles) == (923, 45, Decimal("20.5"))
    assert (stored["C-2"].amount_pence, stored["C-2"].rate_pence) == (820, 40)
    assert stored["C-4"].amount_pence == 1200 and stored["C-4"].rate_pence is None
    assert "DRS meeting" in stored["C-5"].reason
    assert "no mediation session" in stored["C-8"].reason
    assert stored["C-1"].session_id is not None
    # the family is told in plain words what to send (query) and why (rejected); held waits quietly
    query = outbox("claim-query")
    assert [e.to_addr for e in query] == ["parent1@families.example.org"]
    assert "send us the receipt" in query[0].body_text and "£12.00" in query[0].body_text
    assert "Secretname" not in query[0].body_text and "Parent" not in query[0].subject
    rejected = {e.to_addr for e in outbox("claim-rejected")}
    assert rejected == {"parent3@families.example.org", "parent4@families.example.org", "parent5@families.example.org"}
    assert not outbox("claim-held")


def test_same_claim_id_is_one_claim_and_a_query_can_be_answered(cases, drs, tmp_path):
    s = cases["salford"]
    first = write_json(tmp_path / "a.json", [claim("C-1", s, 1, "parking", amount="15")])
    assert drs("claims", "import", str(first), "--today", "2026-11-27", "--json").json()["query"] == 1
    again = drs("claims", "import", str(first), "--today", "2026-11-27", "--json").json()
    assert again["duplicates"] == 1 and again["imported"] == 0
    assert len(outbox("claim-query")) == 1
    # the family sends the receipt: the same claim comes back with receipt yes and is approved
    answered = write_json(tmp_path / "b.json", [claim("C-1", s, 1, "parking", amount="15", receipt="yes")])
    doc = drs("claims", "import", str(answered), "--today", "2026-11-28", "--json").json()
    assert doc["updated"] == 1 and doc["approved"] == 1
    assert claims_by_id()["C-1"].status == "approved"
    assert len(claims_by_id()) == 1


def test_same_claimant_date_category_and_amount_is_a_duplicate(cases, drs, tmp_path):
    s = cases["salford"]
    rows = [
        claim("C-1", s, 1, "parking", amount="6.40"),
        claim("C-2", s, 1, "parking", amount="6.40"),
        claim("C-3", s, 1, "parking", amount="6.50"),
    ]
    doc = drs("claims", "import", str(write_xlsx(tmp_path / "c.xlsx", rows)), "--today", "2026-11-27", "--json").json()
    assert [r["status"] for r in doc["results"]] == ["approved", "rejected", "approved"]
    assert "duplicate of claim C-1" in claims_by_id()["C-2"].reason


def test_bad_records_are_reported_not_fatal(cases, drs, tmp_path):
    s = cases["salford"]
    rows = [
        claim("C-1", s, 1, miles="10"),
        claim("", s, 1),
        claim("C-3", "DRS-2026-99999", 1, miles="2"),
        claim("C-4", s, 1, "taxi", amount="5"),
        claim("C-5", s, 1, session_date="11/31/2026", miles="1"),
        claim("C-6", s, 1, "parking", amount="lots"),
    ]
    result = drs("claims", "import", str(write_json(tmp_path / "d.json", rows)), "--today", "2026-11-27", "--json")
    assert result.exit_code == 0
    doc = result.json()
    assert doc["imported"] == 1 and doc["invalid"] == 5
    errors = {r["claim_id"]: r["errors"] for r in doc["results"] if r["status"] == "invalid"}
    assert errors[None] == ["claim_id is missing"]
    assert errors["C-3"] == ["unknown case DRS-2026-99999"]
    assert "category" in errors["C-4"][0]
    assert "session_date" in errors["C-5"][0]
    assert "amount" in errors["C-6"][0]
    other_case = write_json(tmp_path / "e.json", [claim("C-1", cases["manchester"], 2, miles="10")])
    clash = drs("claims", "import", str(other_case), "--today", "2026-11-27", "--json").json()["results"][0]
    assert clash["status"] == "invalid" and "another case" in clash["errors"][0]
    (tmp_path / "broken.json").write_text("{nope")
    broken = drs("claims", "import", str(tmp_path / "broken.json"), "--json")
    assert broken.exit_code == 0 and broken.json()["results"][0]["status"] == "invalid"
    assert drs("claims", "import", str(tmp_path / "missing.csv")).exit_code == 2


def test_late_claim_is_held_until_an_admin_decides(cases, drs, tmp_path):
    from tasks.claims.claims_in import ClaimError, decide_held_claim
    from tests.integration.test_claims_support import NOW

    m = cases["manchester"]  # Manchester: 60-day window
    rows = [claim("C-1", m, 2, miles="10"), claim("C-2", m, 2, "parking", amount="3")]
    doc = drs("claims", "import", str(write_csv(tmp_path / "late.csv", rows)), "--today", "2027-01-15", "--json").json()
    assert doc["held"] == 2
    assert "window" in claims_by_id()["C-1"].reason
    with pytest.raises(ClaimError):
        decide_held_claim("C-1", False, "  ", NOW)
    assert decide_held_claim("C-1", True, "family was in hospital", NOW)["status"] == "approved"
    refused = drs("claims", "decide", "C-2", "--refuse", "--reason", "Parking was not at the venue.", "--json")
    assert refused.exit_code == 0 and refused.json()["status"] == "rejected"
    again = drs("claims", "decide", "C-2", "--approve", "--reason", "x")
    assert again.exit_code == 2 and "not held" in again.stderr
    told = outbox("claim-refused")
    assert len(told) == 1 and "Parking was not at the venue." in told[0].body_text
    listed = drs("claims", "list", "--status", "approved", "--json").json()
    assert [r["claim_id"] for r in listed] == ["C-1"] and "Parent" not in str(listed)


def test_inbox_files_are_imported_and_moved(cases, drs, drs_env):
    inbox = drs_env.inbox_dir / "claims"
    inbox.mkdir(parents=True)
    write_csv(inbox / "web.csv", [claim("C-1", cases["salford"], 1, miles="3")])
    doc = drs("claims", "import", "--today", "2026-11-27", "--json").json()
    assert doc["imported"] == 1
    assert not (inbox / "web.csv").exists() and (inbox / "processed" / "web.csv").exists()

"""Money sanity end to end (issue #12 §3): through `drs claims import`, `drs claims route` and
`drs claims paid`, a claim beyond the limits is held for an admin (never batched to an LA), a
second mileage claim for one meeting is held, the LA's register sets its own limits, and a
remittance date that cannot be right is refused with the claim left as it was."""

from __future__ import annotations

from datetime import date

from tests.integration.test_claims_support import claim, claims_by_id, make_case, outbox, write_csv, write_json

SALFORD, MANCHESTER = "E08000006", "E08000003"


def test_nine_million_miles_is_held_and_never_sent_to_the_la(las, drs, tmp_path):
    ref = make_case(SALFORD, 1)
    rows = [claim("C-1", ref, 1, miles="9999999"), claim("C-2", ref, 1, "parking", amount="4.00")]
    doc = drs("claims", "import", str(write_csv(tmp_path / "c.csv", rows)), "--today", "2026-11-27", "--json").json()
    assert {r["claim_id"]: r["status"] for r in doc["results"]} == {"C-1": "held", "C-2": "approved"}
    held = claims_by_id()["C-1"]
    assert held.status == "held" and "9,999,999 miles over the 300-mile limit" in held.reason
    routed = drs("claims", "route", "--today", "2026-11-27", "--json").json()
    assert routed["claims_sent"] == 1 and routed["total_pence"] == 400
    assert claims_by_id()["C-1"].status == "held" and claims_by_id()["C-1"].batch_id is None
    assert not outbox("claim-held")  # held waits quietly for an admin
    listed = drs("claims", "list", "--status", "held", "--json").json()  # the admin's list, with the reason
    assert [r["claim_id"] for r in listed] == ["C-1"] and "300-mile limit" in listed[0]["reason"]
    # the admin decides: refused, the family is told in the admin's words
    r = drs("claims", "decide", "C-1", "--refuse", "--reason", "not a real journey", "--today", "2026-11-28")
    assert r.exit_code == 0 and claims_by_id()["C-1"].status == "rejected"


def test_two_mileage_claims_for_one_meeting_are_one_payment_and_one_hold(las, drs, tmp_path):
    ref = make_case(SALFORD, 1)
    first = write_json(tmp_path / "a.json", [claim("M-1", ref, 1, miles="20")])
    assert drs("claims", "import", str(first), "--today", "2026-11-27", "--json").json()["approved"] == 1
    again = write_json(tmp_path / "b.json", [claim("M-2", ref, 1, miles="22.5")])
    doc = drs("claims", "import", str(again), "--today", "2026-11-27", "--json").json()
    assert doc["held"] == 1 and doc["results"][0]["reasons"] == ["second-mileage"]
    assert "claim M-1" in claims_by_id()["M-2"].reason
    routed = drs("claims", "route", "--today", "2026-11-27", "--json").json()
    assert routed["claims_sent"] == 1 and routed["total_pence"] == 900


def test_the_las_register_row_sets_its_own_limits(las, drs, tmp_path):
    register = tmp_path / "las.csv"
    register.write_text(
        "code,name,sen_team_email,finance_email,mileage_rate_pence,max_miles,max_item_pounds,max_meeting_pounds,"
        "remittance_days\n"
        "E08000006,Salford,sen@salford.example.org,finance@salford.example.org,45,25,£15,40,30\n",
        encoding="utf-8",
    )
    r = drs("la", "import", str(register))
    assert r.exit_code == 0, r.stderr
    listed = {row["code"]: row for row in drs("la", "list", "--json").json()}
    assert (
        listed[SALFORD]["max_miles"],
        listed[SALFORD]["max_item_pounds"],
        listed[SALFORD]["max_meeting_pounds"],
        listed[SALFORD]["remittance_days"],
    ) == (25, 15, 40, 30)
    assert (listed[MANCHESTER]["max_miles"], listed[MANCHESTER]["max_item_pounds"]) == (300, 500)  # built in
    s, m = make_case(SALFORD, 1), make_case(MANCHESTER, 2)
    rows = [
        claim("S-1", s, 1, miles="30"),
        claim("S-2", s, 1, "childcare", amount="16", receipt="yes"),
        claim("M-1", m, 2, miles="30"),
    ]
    doc = drs("claims", "import", str(write_csv(tmp_path / "c.csv", rows)), "--today", "2026-11-27", "--json").json()
    assert {r["claim_id"]: r["status"] for r in doc["results"]} == {"S-1": "held", "S-2": "held", "M-1": "approved"}


def test_a_remittance_date_that_cannot_be_right_leaves_the_claim_sent(las, drs, tmp_path):
    ref = make_case(SALFORD, 1)
    drs(
        "claims",
        "import",
        str(
            write_json(
                tmp_path / "a.json", [claim("P-1", ref, 1, miles="10"), claim("P-2", ref, 1, "parking", amount="3")]
            )
        ),
        "--today",
        "2026-11-27",
    )
    assert drs("claims", "route", "--today", "2026-11-27", "--json").json()["claims_sent"] == 2
    remit = tmp_path / "remit.csv"
    remit.write_text("claim_id,paid_on\nP-1,2026-11-20\nP-2,2026-12-20\n")
    doc = drs("claims", "paid", str(remit), "--today", "2026-12-07", "--json").json()
    assert doc["paid"] == 0
    errors = {e["claim_id"]: e["error"] for e in doc["errors"]}
    assert "before the claim was sent" in errors["P-1"] and "in the future" in errors["P-2"]
    assert {c.status for c in claims_by_id().values()} == {"sent"} and not outbox("claim-paid")
    remit.write_text("claim_id,paid_on\nP-1,2026-12-04\n")
    assert drs("claims", "paid", str(remit), "--today", "2026-12-07", "--json").json()["paid"] == 1
    assert claims_by_id()["P-1"].paid_on == date(2026, 12, 4)


def test_a_second_mileage_claim_by_name_only_still_meets_the_first_by_email(las, drs, tmp_path):
    ref = make_case(SALFORD, 1)
    rows = [claim("N-1", ref, 1, miles="20"), claim("N-2", ref, 1, miles="24", email="")]
    doc = drs("claims", "import", str(write_csv(tmp_path / "n.csv", rows)), "--today", "2026-11-27", "--json").json()
    assert {r["claim_id"]: r["status"] for r in doc["results"]} == {"N-1": "approved", "N-2": "held"}

"""Every sample file of docs/formats.md goes through the real CLI with the outcome the page promises:
the LA register, referrals (JSON, CSV, XLSX — all imported; the "bad" sample rejected with its
reasons), claims (JSON, CSV, XLSX — all approved), extra-holidays.csv and alert-policy.json."""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "docs" / "samples"


def _sample_script():
    spec = importlib.util.spec_from_file_location("make_xlsx", SAMPLES / "make_xlsx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_samples(drs) -> dict:
    r = drs("la", "import", str(SAMPLES / "la-register.csv"))
    assert r.exit_code == 0, r.stderr
    r = drs(
        "intake",
        *(str(SAMPLES / n) for n in ("referrals.json", "referrals.csv", "referrals.xlsx")),
        "--today",
        "2026-11-27",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_the_register_sample_loads_every_column(drs, drs_env):
    assert drs("la", "import", str(SAMPLES / "la-register.csv")).exit_code == 0

    rows = {r["code"]: r for r in drs("la", "list", "--json").json()}

    assert set(rows) == {"E08000006", "E08000003", "E08000001", "E06000008"}
    assert rows["E08000006"]["aliases"] == ["Salford City Council", "SCC"]
    assert rows["E08000001"]["mileage_rate_pence"] == 40 and rows["E08000001"]["receipt_threshold_pounds"] == 15
    assert rows["E08000001"]["claim_window_days"] == 60 and rows["E08000001"]["certificate_needs_approval"] is True
    assert rows["E06000008"]["mileage_rate_pence"] == 45 and rows["E06000008"]["receipt_threshold_pounds"] == 10
    assert rows["E06000008"]["sen_team_email"] is None  # blank = none


def test_every_referral_sample_is_imported(drs, drs_env):
    doc = _load_samples(drs)

    assert (doc["imported"], doc["duplicates"], doc["rejected"]) == (7, 0, 0)
    by_form = {r["form_id"]: r for r in doc["results"]}
    assert by_form["TT-48213"]["case_ref"] == "DRS-2026-00001"  # the claims samples' case
    assert {Path(r["source"]).name for r in doc["results"]} == {"referrals.json", "referrals.csv", "referrals.xlsx"}
    shown = drs("case", "show", by_form["TT-48214"]["case_ref"], "--json", "--today", "2026-11-27").json()
    assert shown["local_authority"] == "E08000003"  # "Manchester City Council"
    assert shown["sections"] == ["B", "F"] and shown["health_issues"] is True
    assert [(e["event"], e["on"]) for e in shown["events"]] == [("mediation-declined", "2026-11-23")]  # "no"
    uk_dates = drs("case", "show", by_form["TT-48215"]["case_ref"], "--json").json()
    assert uk_dates["received_on"] == "2026-11-24" and uk_dates["decision"]["letter_sent_on"] == "2026-11-10"
    assert uk_dates["child"]["date_of_birth"] == "2012-09-14"
    section_i = drs("case", "show", by_form["TT-48218"]["case_ref"], "--json").json()
    assert "no-certificate-needed" in section_i["flags"] and section_i["local_authority"] == "E08000001"
    assert drs("case", "show", by_form["TT-48216"]["case_ref"], "--json").json()["service"] == "drs"


def test_the_bad_referral_sample_is_rejected_with_its_reasons(drs, drs_env):
    assert drs("la", "import", str(SAMPLES / "la-register.csv")).exit_code == 0

    r = drs("intake", str(SAMPLES / "referrals-bad.csv"), "--today", "2026-11-27", "--json")

    assert r.exit_code == 0  # bad records are reported, not fatal
    doc = r.json()
    assert (doc["imported"], doc["rejected"]) == (0, 2)
    assert [(x["form_id"], x["status"], x["errors"]) for x in doc["results"]] == [
        (
            "TT-49001",
            "rejected",
            [
                "decision type 'refuse_everything' is not one of: refuse_assessment, refuse_plan, "
                "plan_contents, refuse_reassessment, refuse_amend, cease_plan"
            ],
        ),
        (
            "TT-49002",
            "rejected",
            [
                "requester email does not look like an email address",
                "local authority 'Wigan' is not in the register (use its name or ONS code)",
            ],
        ),
    ]
    formats = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    for reason in (
        "decision type 'refuse_everything' is not one of",
        "requester email does not look like an email address",
        "local authority 'Wigan' is not in the register",
    ):
        assert reason in formats  # the page documents what the bad sample says


def test_every_claim_sample_is_imported_and_approved(drs, drs_env):
    _load_samples(drs)
    assert drs("mediator", "add", "--name", "Mia Mediator", "--email", "mia@service.example.org").exit_code == 0
    booked = drs(
        "session",
        "schedule",
        "DRS-2026-00001",
        "--start",
        "2026-12-07T10:00",
        "--venue",
        "Community Hall",
        "--mediator",
        "mia@service.example.org",
        "--now",
        "2026-11-27T10:00",
    )
    assert booked.exit_code == 0, booked.stderr

    r = drs(
        "claims",
        "import",
        *(str(SAMPLES / n) for n in ("claims.json", "claims.csv", "claims.xlsx")),
        "--today",
        "2026-12-08",
        "--json",
    )

    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert (doc["imported"], doc["approved"], doc["invalid"]) == (5, 5, 0)
    assert {x["claim_id"]: x["amount_pence"] for x in doc["results"]} == {
        "TT-C-1042": 551,  # 12.25 miles x 45p = 551.25p, rounded half up to the penny
        "TT-C-1043": 450,
        "TT-C-1044": 2400,
        "TT-C-1045": 680,
        "TT-C-1046": 840,
    }


def test_the_committed_xlsx_samples_hold_what_the_script_writes(tmp_path):
    from openpyxl import load_workbook

    script = _sample_script()
    for name, columns, rows in (
        ("referrals.xlsx", script.REFERRAL_COLUMNS, script.REFERRAL_ROWS),
        ("claims.xlsx", script.CLAIM_COLUMNS, script.CLAIM_ROWS),
    ):
        wb = load_workbook(SAMPLES / name, read_only=True)
        values = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        expected = [tuple(columns)] + [
            tuple(
                datetime.combine(v, datetime.min.time()) if isinstance(v, date) and not isinstance(v, datetime) else v
                for v in row
            )
            for row in rows
        ]
        assert values == expected, name
    assert {p.name for p in script.main(tmp_path)} == {"referrals.xlsx", "claims.xlsx"}


def test_the_extra_holidays_sample_moves_a_working_day_deadline(drs, drs_env):
    doc = _load_samples(drs)
    ref = {r["form_id"]: r["case_ref"] for r in doc["results"]}["TT-48215"]
    assert drs("case", "event", ref, "mediation-declined", "--on", "2027-06-03", "--today", "2027-06-03").exit_code == 0
    before = drs("case", "show", ref, "--json", "--today", "2027-06-03").json()["clocks"]["certificate_due"]["due"]

    shutil.copy(SAMPLES / "extra-holidays.csv", drs_env.home / "extra-holidays.csv")
    after = drs("case", "show", ref, "--json", "--today", "2027-06-03").json()["clocks"]["certificate_due"]["due"]

    assert (before, after) == ("2027-06-08", "2027-06-09")  # Thu 3 June + 3 WD; Mon 7 June proclaimed


def test_the_alert_policy_sample_is_read_by_the_monitor(drs, drs_env):
    from tasks.deadlines.sweep import load_policy

    _load_samples(drs)
    shutil.copy(SAMPLES / "alert-policy.json", drs_env.home / "alert-policy.json")
    sample = json.loads((SAMPLES / "alert-policy.json").read_text(encoding="utf-8"))

    policy = load_policy()
    r = drs("monitor", "--today", "2026-11-30", "--json")

    assert r.exit_code == 0, r.stderr
    assert policy.due_soon_wd == sample["due_soon_wd"] == 3
    assert dict(policy.due_soon_wd_by_clock) == sample["due_soon_wd_by_clock"]
    assert policy.lead_wd("agreement_issue-plan_final") == 5 and policy.lead_wd("certificate_due") == 2
    assert sorted(policy.kinds) == sorted(sample["kinds"])


@pytest.mark.parametrize(
    "name",
    [
        "la-register.csv",
        "referrals.json",
        "referrals.csv",
        "referrals.xlsx",
        "referrals-bad.csv",
        "claims.json",
        "claims.csv",
        "claims.xlsx",
        "extra-holidays.csv",
        "alert-policy.json",
    ],
)
def test_formats_page_names_every_sample(name):
    assert f"samples/{name}" in (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")

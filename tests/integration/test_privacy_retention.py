"""Issue 17: retention reaches every copy. One family's case touches every table and file; after
`drs retention` a dump of the whole database and every file under $DRS_HOME hold none of its
personal values, and the figures of a past monthly report are unchanged."""

from __future__ import annotations

from sqlalchemy import select

from models.db import OutboxEmail
from tests.integration.privacy_case import PERSONAL, build_family, hits_in_database, hits_in_folder


def _figures(month: str):
    from reports.monthly import build_report
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.reporting.load import load_report_input

    with unit_of_work() as db:
        return build_report(load_report_input(db, month), working_calendar())


def test_retention_leaves_no_personal_value_anywhere_and_figures_stay(las, drs, drs_env, tmp_path):
    from tasks.db import get_engine, unit_of_work

    family = build_family(drs, drs_env.home, tmp_path)
    report = drs("report", "monthly", "--month", "2024-04", "--today", "2024-05-02", "--json")
    assert report.exit_code == 0, report.stderr
    before = _figures("2024-04")
    # the scene is real: the values are everywhere before
    assert hits_in_database(get_engine(), PERSONAL)
    before_files = hits_in_folder(drs_env.home, PERSONAL)
    for folder in (
        "outbox/sent",
        "certificates",
        "inbox/referrals/processed",
        "inbox/claims/processed",
        "reports/claims",
    ):
        assert any(h.startswith(folder) for h in before_files), folder
    with unit_of_work() as db:
        keys = db.scalars(select(OutboxEmail.key)).all()
        assert keys and not [k for k in keys if "@" in k]  # no address in any key

    dry = drs("retention", "--dry-run", "--today", "2026-06-15", "--json")
    assert dry.exit_code == 0, dry.stderr
    assert dry.json()["refs"] == [family.ref] and dry.json()["dry_run"] is True
    assert hits_in_database(get_engine(), [PERSONAL[0]])  # a dry run changes nothing

    result = drs("retention", "--today", "2026-06-15", "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["refs"] == [family.ref] and doc["emails_cancelled"] == 1 and doc["attachments"] >= 3, doc
    assert not doc["case_file_errors"], doc

    assert hits_in_database(get_engine(), PERSONAL) == []
    assert hits_in_folder(drs_env.home, PERSONAL) == []
    assert _figures("2024-04") == before
    with unit_of_work() as db:
        unsent = db.scalar(select(OutboxEmail).where(OutboxEmail.key == f"test-unsent:{family.ref}"))
        assert unsent.status == "cancelled"
    again = drs("retention", "--today", "2026-06-16", "--json").json()
    assert again["cases"] == 0


def test_legal_hold_keeps_the_case_and_its_files_until_released(las, drs, drs_env, tmp_path):
    from tasks.db import get_engine

    family = build_family(drs, drs_env.home, tmp_path)
    r = drs("case", "hold", family.ref, "--reason", "tribunal appeal SE-2024-001", "--now", "2026-06-01T09:00:00+01:00")
    assert r.exit_code == 0, r.stderr
    shown = drs("case", "show", family.ref, "--json").json()
    assert shown["legal_hold"]["reason"] == "tribunal appeal SE-2024-001" and shown["legal_hold"]["by"]
    assert "LEGAL HOLD" in drs("case", "show", family.ref).stdout

    plan = drs("retention", "--dry-run", "--today", "2030-01-01", "--json").json()
    assert plan["refs"] == [] and plan["held"] == [family.ref]
    assert plan["files_to_remove"].get("outbox/sent", 0) == 0  # its .eml copies are held too
    done = drs("retention", "--today", "2030-01-01", "--json").json()
    assert done["cases"] == 0 and done["held"] == [family.ref]
    assert hits_in_database(get_engine(), [PERSONAL[0]]) and hits_in_folder(drs_env.home, ["Marigold"])
    erase = drs("case", "erase", family.ref, "--reason", "request received 2026-06-02")
    assert erase.exit_code == 2 and "legal hold" in erase.stderr and "tribunal appeal" in erase.stderr

    assert drs("case", "release", family.ref).exit_code == 0
    assert drs("case", "show", family.ref, "--json").json()["legal_hold"] is None
    done = drs("retention", "--today", "2030-01-01", "--json").json()
    assert done["refs"] == [family.ref]
    assert hits_in_folder(drs_env.home, PERSONAL) == []
    actions = [a["action"] for a in drs("audit", family.ref, "--json").json()]
    assert {"case:hold", "case:release", "case:anonymised"} <= set(actions)


def test_erase_on_request_anonymises_an_open_case_at_once(las, drs, drs_env, tmp_path):
    from tasks.db import get_engine

    family = build_family(drs, drs_env.home, tmp_path)
    r = drs("case", "erase", family.ref, "--reason", "erasure request 2024-06-10", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["refs"] == [family.ref]
    assert hits_in_database(get_engine(), PERSONAL) == []
    assert hits_in_folder(drs_env.home, PERSONAL) == []
    assert drs("case", "erase", "DRS-1999-00001", "--reason", "x").exit_code == 2

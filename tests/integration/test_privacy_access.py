"""Issue 17: subject access (`drs case export`, `drs subject-access`) and the audit trail
(`drs audit`, real time beside `--now`, the operator, reads logged, append-only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update

from models.db import AuditEntry
from tests.integration.privacy_case import (
    CHILD,
    EMAIL,
    NOTE,
    OTHER_PAYER,
    PARENT,
    REFUSAL,
    SUPPORTER,
    build_family,
)


def test_case_export_writes_everything_held_with_a_readme(las, drs, drs_env, tmp_path):
    family = build_family(drs, drs_env.home, tmp_path)
    out = tmp_path / "sar"
    r = drs("case", "export", family.ref, "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    readme = (out / "README.txt").read_text()
    assert "case.json" in readme and "right of access" in readme
    doc = json.loads((out / family.ref / "case.json").read_text())
    assert doc["requester"]["name"] == PARENT and doc["child"]["name"] == CHILD and doc["notes"] == NOTE
    assert {e["event"] for e in doc["events"]} >= {"information-given", "mediation-concluded", "closed"}
    assert any(e["note"] == NOTE for e in doc["events"])
    assert doc["clocks"] and doc["referrals"][0]["form_id"] == "SAR-77001"
    meeting = doc["meetings"][0]
    assert {a["email"] for a in meeting["attendees"]} >= {EMAIL, SUPPORTER[1]}
    kinds = {e["kind"] for e in doc["emails"]}
    assert {"acknowledgement", "session-invite", "certificate", "claim-sent"} <= kinds, kinds
    assert any(e["status"] == "pending" for e in doc["emails"])  # queued, not yet sent, is listed too
    files = [a["file"] for e in doc["emails"] for a in e["attachments"]]
    assert any(f.endswith(".ics") for f in files) and any(f.endswith(".pdf") for f in files)
    assert all((out / family.ref / f).is_file() for f in files)
    assert {c["claim_id"]: c["reason"] for c in doc["claims"]}["SAR-77001-C2"].endswith(REFUSAL)
    cert = doc["certificates"][0]
    assert (out / family.ref / cert["file"]).read_bytes()[:4] == b"%PDF"
    assert {a["action"] for a in doc["audit"]} >= {"case:created", "session:scheduled", "certificate:issued"}
    # the export itself is audited, by reference only
    entries = drs("audit", family.ref, "--json").json()
    read = [e for e in entries if e["action"] == "read:case-export"]
    assert len(read) == 1 and read[0]["detail"] == {"ref": family.ref} and read[0]["operator"]
    assert drs("case", "export", "DRS-1999-00001", "--out", str(tmp_path / "x")).exit_code == 2


def test_subject_access_by_address_across_cases_and_for_a_supporter(las, drs, drs_env, tmp_path):
    family = build_family(drs, drs_env.home, tmp_path)
    out = tmp_path / "by-email"
    r = drs("subject-access", "--email", EMAIL.upper(), "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["refs"] == [family.ref]
    assert (out / family.ref / "case.json").is_file() and (out / "README.txt").is_file()
    payer = drs("subject-access", "--email", OTHER_PAYER, "--out", str(tmp_path / "payer"), "--json").json()
    assert payer["refs"] == [family.ref]  # a claim's payee is the family's too
    supporter = drs("subject-access", "--email", SUPPORTER[1], "--out", str(tmp_path / "sup"), "--json").json()
    assert supporter["refs"] == [] and supporter["other_emails"] >= 1  # not the family's case: only their emails
    other = json.loads((tmp_path / "sup" / "other-emails.json").read_text())
    assert all(e["to"] == SUPPORTER[1] for e in other["emails"]) and other["meetings"]
    assert CHILD not in json.dumps(other["meetings"])
    actions = [e for e in drs("audit", "--json").json() if e["action"] == "read:subject-access"]
    assert len(actions) == 3 and not any("@" in json.dumps(e) for e in actions)
    assert drs("subject-access", "--email", "nobody", "--out", str(tmp_path / "n")).exit_code == 2


def test_audit_records_real_time_operator_and_reads(las, drs, drs_env, tmp_path, monkeypatch):
    family = build_family(drs, drs_env.home, tmp_path)
    monkeypatch.setenv("DRS_OPERATOR", "Alex Caseworker")
    from tasks.settings import get_settings

    get_settings.cache_clear()
    before = datetime.now(UTC)
    r = drs(
        "case", "event", family.ref, "information-given", "--on", "2024-06-01", "--now", "2024-06-01T10:00:00+00:00"
    )
    assert r.exit_code == 0, r.stderr
    drs("case", "show", family.ref, "--json")
    drs("case", "show", family.ref)  # text: no personal data shown, not logged
    entries = drs("audit", family.ref, "--json").json()
    event = [e for e in entries if e["action"] == "event:information-given"][-1]
    assert event["at"].startswith("2024-06-01T10:00")  # the effective (back-dated) time ...
    recorded = datetime.fromisoformat(event["recorded_at"])
    assert before - timedelta(seconds=5) <= recorded <= datetime.now(UTC) + timedelta(seconds=5)  # ... and the real one
    assert event["operator"] == "Alex Caseworker" and event["actor"] == "cli:case-event"
    reads = [e for e in entries if e["action"] == "read:case-show"]
    assert len(reads) == 1 and reads[0]["case_ref"] == family.ref
    # text output, filters
    lines = drs("audit", family.ref).stdout
    assert "Alex Caseworker via cli:case-event" in lines and "(effective 2024-06-01T10:00)" in lines
    assert drs("audit", "--since", "2100-12-31", "--json").json() == []
    assert len(drs("audit", "--since", before.date().isoformat(), "--json").json()) >= 2
    assert drs("audit", "DRS-1999-00001").exit_code == 2


def test_audit_log_is_append_only(las, drs, drs_env, tmp_path):
    from tasks.db import unit_of_work

    family = build_family(drs, drs_env.home, tmp_path)
    with unit_of_work() as db:
        count = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        assert count
    for statement in (
        update(AuditEntry).values(actor="someone else"),
        delete(AuditEntry),
        text("UPDATE audit_log SET detail = NULL"),
        text("DELETE FROM audit_log"),
    ):
        with unit_of_work() as db, pytest.raises(Exception, match="append-only"):
            db.execute(statement)
            db.commit()
    with unit_of_work() as db:  # through the ORM too
        entry = db.scalar(select(AuditEntry).limit(1))
        entry.operator = "forged"
        with pytest.raises(Exception, match="append-only"):
            db.commit()
    with unit_of_work() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.operator == "forged")) is None
    # and nothing in the code has an update/delete path for it
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(root))
        for folder in ("tasks", "flows", "cli", "models", "reports")
        for p in (root / folder).rglob("*.py")
        if re.search(r"(update|delete)\(\s*AuditEntry|(UPDATE|DELETE FROM)\s+audit_log", p.read_text())
        and "migrations" not in str(p)
    ]
    assert offenders == []
    assert family.ref


def test_admin_forms_require_your_name_and_record_it(las, drs, drs_env, tmp_path):
    from flows import admin
    from tasks.privacy.audit_trail import set_operator

    family = build_family(drs, drs_env.home, tmp_path)
    try:
        with pytest.raises(ValueError, match="your_name is required"):
            admin.record_case_event.fn(family.ref, "information-given", datetime(2024, 6, 1).date(), "  ")
        admin.record_case_event.fn(family.ref, "information-given", datetime(2024, 6, 1).date(), "Sam  Admin")
    finally:
        set_operator(None)
    entry = [e for e in drs("audit", family.ref, "--json").json() if e["action"] == "event:information-given"][-1]
    assert (entry["operator"], entry["actor"]) == ("Sam Admin", "dashboard")

"""`drs intake` end to end: real JSON, CSV and XLSX files through the real code into the database
(SQLite, and PostgreSQL when DRS_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from models.db import Case, CaseEvent, OutboxEmail, Referral
from tasks.db import unit_of_work
from tests.intake_samples import CHILD_NAME, PARENT_NAME, referral, settle, write_csv, write_json, write_xlsx

TODAY = "2026-11-23"


@pytest.fixture
def inbox(drs_env, las):
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def counts() -> dict[str, int]:
    with unit_of_work() as db:
        return {
            name: db.scalar(select(func.count()).select_from(model))
            for name, model in (
                ("cases", Case),
                ("referrals", Referral),
                ("events", CaseEvent),
                ("outbox", OutboxEmail),
            )
        }


def outbox() -> dict[str, SimpleNamespace]:
    """Outbox rows by key, copied out of the (rolled back) unit of work."""
    with unit_of_work() as db:
        return {
            row.key: SimpleNamespace(
                **{
                    c: getattr(row, c)
                    for c in ("key", "kind", "to_addr", "subject", "body_text", "body_html", "case_id", "status")
                }
            )
            for row in db.scalars(select(OutboxEmail))
        }


def case(ref: str) -> SimpleNamespace:
    with unit_of_work() as db:
        row = db.scalar(select(Case).where(Case.ref == ref))
        return SimpleNamespace(
            flags=list(row.flags), events=[SimpleNamespace(event=e.event, on=e.on) for e in row.events]
        )


def test_json_csv_and_xlsx_from_the_inbox_become_cases(drs, inbox):
    write_json(inbox / "a.json", referral("TT-1"))
    write_csv(
        inbox / "b.csv",
        [
            referral(
                "TT-2",
                local_authority="Manchester City Council",
                child_name="Child Two",
                child_date_of_birth="2012-01-05",
            )
        ],
    )
    write_xlsx(
        inbox / "c.xlsx",
        [
            referral(
                "TT-3",
                local_authority="e08000001",
                child_name="Child Three",
                decision_type="plan_contents",
                sections=["B", "F"],
            )
        ],
    )
    r = drs("intake", "--today", TODAY, "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert set(doc) == {"imported", "duplicates", "rejected", "results"}
    assert (doc["imported"], doc["duplicates"], doc["rejected"]) == (3, 0, 0)
    assert [(x["source"], x["form_id"], x["status"], x["case_ref"], x["errors"]) for x in doc["results"]] == [
        ("a.json", "TT-1", "imported", "DRS-2026-00001", []),
        ("b.csv", "TT-2", "imported", "DRS-2026-00002", []),
        ("c.xlsx", "TT-3", "imported", "DRS-2026-00003", []),
    ]
    assert all(set(x) == {"source", "form_id", "status", "case_ref", "errors"} for x in doc["results"])
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.json", "b.csv", "c.xlsx"]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    assert list((inbox / "rejected").iterdir()) == []

    shown = drs("case", "show", "DRS-2026-00002", "--json", "--today", TODAY).json()
    assert shown["local_authority"] == "E08000003"
    assert shown["received_on"] == "2026-11-20" and shown["status"] == "new"
    assert shown["clocks"]["appeal_deadline"]["due"] == "2027-01-12"
    third = drs("case", "show", "DRS-2026-00003", "--json", "--today", TODAY).json()
    assert third["local_authority"] == "E08000001" and third["sections"] == ["B", "F"]
    assert third["child"]["date_of_birth"] == "2015-03-02"
    keys = set(outbox())
    assert {"ack:DRS-2026-00001", "team-new-case:DRS-2026-00001", "ack:DRS-2026-00003"} <= keys
    assert not any(k.startswith("la-request") for k in keys)  # nobody asked for mediation yet


def test_running_intake_twice_over_the_same_files_changes_nothing(drs, inbox, tmp_path):
    folder = tmp_path / "export"
    write_json(folder / "a.json", [referral("TT-1"), referral("TT-2", child_name="Other Child", wants_mediation="yes")])
    write_csv(folder / "b.csv", [referral("TT-3", child_name="Third Child", wants_mediation="no")])
    write_xlsx(folder / "c.xlsx", [referral("TT-4", child_name="Fourth Child")])
    first = drs("intake", str(folder), "--today", TODAY, "--json").json()
    assert first["imported"] == 4
    before = counts()
    assert before == {"cases": 4, "referrals": 4, "events": 2, "outbox": 9}  # 4 acks, 4 team, 1 LA
    second = drs("intake", str(folder), "--today", TODAY, "--json").json()
    assert (second["imported"], second["duplicates"], second["rejected"]) == (0, 4, 0)
    assert [x["case_ref"] for x in second["results"]] == [x["case_ref"] for x in first["results"]]
    assert second["results"][0]["errors"] == ["form TT-1 was imported before (case DRS-2026-00001)"]
    assert counts() == before
    # the user's own files outside the inbox are read where they are, never moved
    assert sorted(p.name for p in folder.iterdir()) == ["a.json", "b.csv", "c.xlsx"]
    # and the same files dropped into the inbox later are duplicates too
    for p in folder.iterdir():
        settle(shutil.copy(p, inbox / p.name) and inbox / p.name)
    third = drs("intake", "--today", TODAY, "--json").json()
    assert third["duplicates"] == 4 and counts() == before


def test_a_bad_record_never_stops_the_good_ones_and_explains_itself(drs, inbox):
    write_csv(
        inbox / "mixed.csv",
        [
            referral("TT-1"),
            referral("TT-2", requester_email="not an email", local_authority="Atlantis", child_name="Bad Child"),
            referral("TT-3", child_name="Good Child", child_date_of_birth="2010-10-10"),
        ],
    )
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert [x["status"] for x in doc["results"]] == ["imported", "rejected", "imported"]
    assert doc["results"][1]["errors"] == [
        "requester email does not look like an email address",
        "local authority 'Atlantis' is not in the register (use its name or ONS code)",
    ]
    assert (inbox / "processed" / "mixed.csv").exists()
    assert (inbox / "rejected" / "mixed.csv").read_bytes() == (inbox / "processed" / "mixed.csv").read_bytes()
    report = json.loads((inbox / "rejected" / "mixed.csv.errors.json").read_text())
    assert report["file"] == "mixed.csv"
    assert report["records"] == [{"record": "row 3", "form_id": "TT-2", "errors": doc["results"][1]["errors"]}]
    assert counts()["cases"] == 2
    # given again, nothing changes: no new cases, no second rejected copy
    before = (counts(), sorted(p.name for p in (inbox / "rejected").iterdir()))
    again = drs("intake", str(inbox / "processed" / "mixed.csv"), "--today", TODAY, "--json").json()
    assert [x["status"] for x in again["results"]] == ["duplicate", "rejected", "duplicate"]
    assert (counts(), sorted(p.name for p in (inbox / "rejected").iterdir())) == before


def test_a_malformed_file_is_rejected_whole_with_a_readable_reason(drs, inbox):
    (inbox / "broken.json").write_text('{"form_id": "TT-1", "submitted_at": ')
    settle(inbox / "broken.json")
    r = drs("intake", "--today", TODAY, "--json")
    assert r.exit_code == 0
    assert "Traceback" not in r.stderr + r.stdout
    doc = r.json()
    assert doc["rejected"] == 1
    assert doc["results"] == [
        {
            "source": "broken.json",
            "form_id": None,
            "status": "rejected",
            "case_ref": None,
            "errors": ["the JSON is not valid: Expecting value at line 1, column 37"],
        }
    ]
    report = json.loads((inbox / "rejected" / "broken.json.errors.json").read_text())
    assert report["readable"] is False and report["error"].startswith("the JSON is not valid")
    assert (inbox / "rejected" / "broken.json").exists()
    # README.md "Referrals": files taken from the inbox end in processed/; the rejected/ one is a copy
    assert (inbox / "processed" / "broken.json").read_bytes() == (inbox / "rejected" / "broken.json").read_bytes()


def test_a_missing_path_is_a_usage_error(drs, inbox):
    r = drs("intake", "/no/such/referrals.json", "--today", TODAY, "--json")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == ["drs: error: /no/such/referrals.json: no such file or folder"]


def test_declining_on_the_form_starts_the_certificate_clock(drs, inbox):
    write_json(inbox / "a.json", referral("TT-1", wants_mediation="no"))
    drs("intake", "--today", TODAY)
    shown = drs("case", "show", "DRS-2026-00001", "--json", "--today", TODAY).json()
    assert shown["events"][0]["event"] == "mediation-declined" and shown["events"][0]["on"] == "2026-11-20"
    assert shown["status"] == "certificate-pending"
    assert shown["clocks"]["certificate_due"]["due"] == "2026-11-25"  # Fri 20 Nov + 3 working days
    ack = outbox()["ack:DRS-2026-00001"]
    assert "Wednesday 25 November 2026" in ack.body_text
    assert "Tuesday 12 January 2027" in ack.body_text  # appeal deadline
    assert "free" in ack.body_text and "certificate" in ack.body_html


def test_a_request_goes_to_the_la_only_with_the_familys_consent(drs, inbox):
    write_json(
        inbox / "a.json",
        [
            referral("TT-1", wants_mediation="yes", health_issues=True),
            referral("TT-2", wants_mediation="yes", consent_to_contact_la=False, child_name="No Consent Child"),
        ],
    )
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert doc["imported"] == 2
    rows = outbox()
    la = rows["la-request:DRS-2026-00001"]
    assert la.to_addr == "sen@salford.example.org" and la.kind == "la-mediation-request"
    assert CHILD_NAME in la.body_text and PARENT_NAME in la.body_text
    assert "30 days" in la.body_text and "integrated care board" in la.body_text
    assert "la-request:DRS-2026-00002" not in rows
    second = case("DRS-2026-00002")
    assert second.flags == ["mediation-requested-without-la-consent"]
    assert [e.event for e in second.events] == ["mediation-requested"]
    assert "please check" in rows["team-new-case:DRS-2026-00002"].body_text.lower()
    # the service passed the first request on itself: its own clock is met; the second waits for the adviser
    sent = drs("case", "show", "DRS-2026-00001", "--json", "--today", TODAY).json()["clocks"]["la_informed_by"]
    waiting = drs("case", "show", "DRS-2026-00002", "--json", "--today", TODAY).json()["clocks"]["la_informed_by"]
    assert (sent["state"], waiting["state"]) == ("met", "open")


def test_subjects_never_carry_names(drs, inbox):
    write_json(inbox / "a.json", [referral("TT-1", wants_mediation="yes"), referral("TT-2", child_name="Second Kid")])
    drs("intake", "--today", TODAY)
    for row in outbox().values():
        assert "DRS-2026-0000" in row.subject
        for word in ("Zebedee", "Quillfeather", "Ottoline", "Second Kid", "@"):
            assert word not in row.subject
        assert row.body_html and row.body_text


def test_a_second_referral_for_the_same_child_and_letter_is_a_new_case_flagged_for_the_team(drs, inbox):
    # README.md "Referrals": `form_id` makes a referral idempotent; a different form is a different case
    write_json(inbox / "a.json", referral("TT-1"))
    drs("intake", "--today", TODAY)
    write_json(
        inbox / "b.json",
        referral(
            "TT-7",
            child_name="  zebedee   QUILLFEATHER",
            wants_mediation="no",
            submitted_at="2026-11-21T10:00:00Z",
            local_authority="E08000006",
        ),
    )
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert doc["results"] == [
        {"source": "b.json", "form_id": "TT-7", "status": "imported", "case_ref": "DRS-2026-00002", "errors": []}
    ]
    assert counts()["cases"] == 2
    assert case("DRS-2026-00001").events == [] and "possible-duplicate" not in case("DRS-2026-00001").flags
    second = case("DRS-2026-00002")
    assert [(e.event, e.on) for e in second.events] == [("mediation-declined", date(2026, 11, 21))]
    assert "possible-duplicate" in second.flags
    assert "possible-duplicate" not in "".join(r.subject for r in outbox().values())
    assert "Another case has the same child" in outbox()["team-new-case:DRS-2026-00002"].body_text
    # a different decision letter is a different case, not flagged
    write_json(inbox / "c.json", referral("TT-8", decision_letter_sent_on="2026-11-13"))
    assert drs("intake", "--today", TODAY, "--json").json()["imported"] == 1
    assert "possible-duplicate" not in case("DRS-2026-00003").flags


def test_soft_problems_are_accepted_and_flagged_on_the_case(drs, inbox):
    write_json(
        inbox / "a.json",
        [
            referral("TT-1", decision_letter_sent_on="2026-08-01"),
            referral(
                "TT-2",
                child_name="Section I Child",
                decision_type="plan_contents",
                sections=["I"],
                wants_mediation="no",
            ),
        ],
    )
    assert drs("intake", "--today", TODAY, "--json").json()["imported"] == 2
    assert case("DRS-2026-00001").flags == ["contact-deadline-passed"]
    second = drs("case", "show", "DRS-2026-00002", "--json", "--today", TODAY).json()
    assert second["flags"] == ["no-certificate-needed"]
    assert second["clocks"]["certificate_due"]["state"] == "not_applicable"
    assert "without a certificate" in outbox()["ack:DRS-2026-00002"].body_text


def test_a_run_that_crashed_mid_file_is_finished_by_the_next_run(drs, inbox, tmp_path):
    from tasks.intake import referral_files as rf

    # the crashed run had imported TT-1 from a.json, then died holding its claim
    drs("intake", str(write_json(tmp_path / "first.json", referral("TT-1"))), "--today", TODAY)
    claim = inbox / ".claimed" / f"{int(time.time())}.999999999.{rf._host()}__a.json"
    write_json(claim, [referral("TT-1"), referral("TT-2", child_name="Other Child")])
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert [(x["source"], x["form_id"], x["status"]) for x in doc["results"]] == [
        ("a.json", "TT-1", "duplicate"),
        ("a.json", "TT-2", "imported"),
    ]
    assert (inbox / "processed" / "a.json").exists() and not list((inbox / ".claimed").iterdir())
    assert counts()["cases"] == 2


def test_a_record_is_all_or_nothing(drs, inbox, monkeypatch):
    from tasks.intake import emails as templates_intake

    real = templates_intake.team_new_case

    def broken(facts, **kw):
        if facts.wants_mediation == "no":
            raise RuntimeError("template failed")
        return real(facts, **kw)

    monkeypatch.setattr(templates_intake, "team_new_case", broken)
    write_json(inbox / "a.json", [referral("TT-1", wants_mediation="no"), referral("TT-2", child_name="Other Child")])
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert [x["status"] for x in doc["results"]] == ["rejected", "imported"]
    assert "internal error" in doc["results"][0]["errors"][0]
    with unit_of_work() as db:  # no half-written case: the failed record left nothing behind
        assert db.scalar(select(func.count()).select_from(Referral).where(Referral.form_id == "TT-1")) == 0
        assert db.scalars(select(Case.ref)).all() == ["DRS-2026-00001"]  # the number was reused by TT-2
        assert db.scalar(select(func.count()).select_from(CaseEvent)) == 0  # no stray mediation-declined
    assert set(outbox()) == {"ack:DRS-2026-00001", "team-new-case:DRS-2026-00001"}
    monkeypatch.setattr(templates_intake, "team_new_case", real)
    shutil.copy(inbox / "rejected" / "a.json", inbox / "again.json")
    settle(inbox / "again.json")
    again = drs("intake", "--today", TODAY, "--json").json()
    assert [x["status"] for x in again["results"]] == ["imported", "duplicate"]


def test_concurrent_runs_import_each_referral_once(inbox, drs_env):
    from tasks.intake.referral_intake import import_referral_files

    for n in range(6):
        write_json(inbox / f"f{n}.json", [referral(f"TT-{n}-{k}", child_name=f"Child {n} {k}") for k in range(3)])
    outcomes, errors = [], []

    def run():
        try:
            outcomes.append(import_referral_files(today=date(2026, 11, 23), now=datetime(2026, 11, 23, 9, tzinfo=UTC)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = [r.status for o in outcomes for r in o.results]
    assert statuses.count("imported") == 18 and len(statuses) == 18
    assert counts()["cases"] == 18
    with unit_of_work() as db:
        refs = db.scalars(select(Case.ref)).all()
    assert len(set(refs)) == 18


def test_drs_referral_needs_no_decision_and_gets_the_drs_acknowledgement(drs, inbox):
    write_json(
        inbox / "a.json",
        referral("TT-1", service="drs", decision_type="", decision_letter_sent_on="", wants_mediation="yes"),
    )
    doc = drs("intake", "--today", TODAY, "--json").json()
    assert doc["imported"] == 1, doc
    shown = drs("case", "show", "DRS-2026-00001", "--json", "--today", TODAY).json()
    assert shown["service"] == "drs" and shown["events"] == []
    assert set(shown["clocks"]) == {"acknowledge_by", "first_contact_by"}
    rows = outbox()
    assert "Disagreement resolution" in rows["ack:DRS-2026-00001"].body_text
    assert "la-request:DRS-2026-00001" not in rows


def test_a_file_named_in_the_inbox_is_claimed_and_filed_even_if_just_written(drs, inbox):
    (inbox / "now.json").write_text(json.dumps(referral("TT-1")))  # no settle wait when named
    (inbox / "later.json.part").write_text("{")
    r = drs("intake", str(inbox / "now.json"), "--today", TODAY)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "1 imported, 0 duplicates, 0 rejected"
    assert "DRS-2026-00001" in r.stdout and CHILD_NAME not in r.stdout
    assert (inbox / "processed" / "now.json").exists() and (inbox / "later.json.part").exists()


def test_the_scheduled_inbox_run_skips_a_file_still_being_written(drs, inbox):
    from tasks.intake.referral_intake import import_referral_files

    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    fresh = inbox / "fresh.json"
    fresh.write_text(json.dumps(referral("TT-1")))
    stop = threading.Event()

    def writer():  # still being written: its mtime changes between the two looks
        while not stop.is_set():
            fresh.touch()
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        outcome = import_referral_files(today=date(2026, 11, 23), now=now, interval=0.3)  # what the flow runs
    finally:
        stop.set()
        thread.join()
    assert outcome.results == [] and outcome.skipped == ["fresh.json"]
    assert fresh.exists()
    assert import_referral_files(today=date(2026, 11, 23), now=now, interval=0.3).document()["imported"] == 1


def test_a_numeric_form_id_from_a_spreadsheet_is_the_same_form_twice(drs, inbox, tmp_path):
    from openpyxl import Workbook

    from tests.intake_samples import CSV_COLUMNS, flat_row

    path = tmp_path / "numeric.xlsx"
    wb = Workbook()
    wb.active.append(CSV_COLUMNS)
    row = flat_row(referral("48213"))
    row["form_id"] = 48213.0
    wb.active.append([row[c] for c in CSV_COLUMNS])
    wb.save(path)
    first = drs("intake", str(path), "--today", TODAY, "--json").json()
    second = drs("intake", str(path), "--today", TODAY, "--json").json()
    assert first["results"][0]["form_id"] == "48213" and first["imported"] == 1
    assert second["results"][0]["status"] == "duplicate"


def test_acknowledgement_queued_at_intake_meets_the_acknowledge_by_clock(drs, las, tmp_path):
    import json as _json

    inbox = tmp_path / "one.json"
    inbox.write_text(
        _json.dumps(
            {
                "form_id": "ACK-1",
                "submitted_at": "2026-11-20T14:03:00Z",
                "service": "mediation",
                "requester": {
                    "role": "parent",
                    "name": "Pat Example",
                    "email": "pat@families.example",
                    "phone": "",
                    "postcode": "M1 1AA",
                },
                "child": {"name": "Sam Example", "date_of_birth": "2015-03-02"},
                "local_authority": "Salford",
                "decision": {"type": "refuse_assessment", "letter_sent_on": "2026-11-12"},
                "wants_mediation": "undecided",
                "consent_to_contact_la": True,
            }
        )
    )
    summary = drs("intake", str(inbox), "--today", "2026-11-20", "--json").json()
    ref = summary["results"][0]["case_ref"]
    clocks = drs("case", "show", ref, "--json", "--today", "2026-11-30").json()["clocks"]
    assert clocks["acknowledge_by"]["state"] == "met"


def test_a_list_element_that_is_not_an_object_does_not_stop_the_referral_beside_it(drs, inbox):
    write_json(inbox / "mixed.json", [referral("TT-71"), "not a referral", None])
    r = drs("intake", "--today", TODAY, "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert (doc["imported"], doc["rejected"]) == (1, 2)
    assert [x["status"] for x in doc["results"]] == ["imported", "rejected", "rejected"]
    assert doc["results"][1]["errors"] == ["record 2 is not a JSON object (expected a referral object)"]
    assert (inbox / "processed" / "mixed.json").exists()
    errors = json.loads((inbox / "rejected" / "mixed.json.errors.json").read_text())
    assert errors["readable"] is True
    assert [rec["record"] for rec in errors["records"]] == ["record 2", "record 3"]

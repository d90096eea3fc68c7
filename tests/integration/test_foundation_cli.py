"""The foundation through the `drs` CLI on both databases: register, cases, events, clocks, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models.db import AuditEntry, Case, CaseEvent, Clock


def make_case(la_code: str, *, letter: date, received: date, decision: str = "refuse_assessment", **fields) -> str:
    from tasks.cases.casework import find_local_authority, new_case
    from tasks.db import unit_of_work

    now = datetime.combine(received, datetime.min.time(), tzinfo=UTC).replace(hour=10)
    with unit_of_work() as db:
        case = new_case(
            db,
            la=find_local_authority(db, la_code),
            service=fields.pop("service", "mediation"),
            received_on=received,
            now=now,
            today=received,
            recorded_by="test",
            decision_type=decision,
            decision_letter_sent_on=letter,
            requester_name="Test Parent",
            requester_email="parent@families.example",
            **fields,
        )
        db.commit()
        return case.ref


WORKED_EXAMPLES = [
    # (id, letter, received, [(event, on, extra args)], clock, due, target)
    (
        "declined-before-easter-2025-SECONDARY",
        date(2025, 4, 1),
        date(2025, 4, 10),
        [("mediation-declined", "2025-04-17", [])],
        "certificate_due",
        "2025-04-24",
        "2025-04-24",
    ),
    (
        "concluded-before-may-bank-holiday-2025-SECONDARY",
        date(2025, 3, 20),
        date(2025, 3, 25),
        [
            ("mediation-requested", "2025-03-26", []),
            ("la-received-request", "2025-03-27", []),
            ("mediation-concluded", "2025-05-02", []),
        ],
        "certificate_due",
        "2025-05-08",
        "2025-05-08",
    ),
    (
        "mediation-by-over-christmas-2025-SECONDARY",
        date(2025, 11, 20),
        date(2025, 11, 26),
        [("mediation-requested", "2025-11-27", []), ("la-received-request", "2025-12-01", [])],
        "mediation_by",
        "2025-12-31",
        "2025-12-31",
    ),
    (
        "deemed-certificate-christmas-2025-SECONDARY",
        date(2025, 11, 20),
        date(2025, 11, 26),
        [
            ("mediation-requested", "2025-11-27", []),
            ("la-received-request", "2025-12-01", []),
            ("la-cannot-arrange", "2025-12-24", []),
        ],
        "certificate_due",
        "2025-12-31",
        "2025-12-31",
    ),
    (
        "appeal-deadline-month-end-2026-VERIFIED",
        date(2025, 12, 31),
        date(2026, 1, 5),
        [("mediation-declined", "2026-01-12", []), ("certificate-issued", "2026-01-15", ["--type", "declined"])],
        "appeal_deadline",
        "2026-03-02",
        "2026-03-02",
    ),
    (
        "appeal-deadline-christmas-window-2027-VERIFIED",
        date(2026, 10, 1),
        date(2026, 10, 5),
        [("mediation-declined", "2026-11-24", []), ("certificate-issued", "2026-11-27", ["--type", "declined"])],
        "appeal_deadline",
        "2027-01-04",
        "2027-01-04",
    ),
    (
        "agreement-issue-plan-draft-2026-SECONDARY",
        date(2026, 3, 2),
        date(2026, 3, 9),
        [
            ("mediation-requested", "2026-03-10", []),
            ("la-received-request", "2026-03-11", []),
            ("mediation-concluded", "2026-05-05", []),
            ("agreement-reached", "2026-05-05", ["--item", "issue-plan"]),
        ],
        "agreement_issue-plan_draft",
        "2026-06-09",
        "2026-06-09",
    ),
    (
        "agreement-issue-plan-final-2026-SECONDARY",
        date(2026, 3, 2),
        date(2026, 3, 9),
        [
            ("mediation-requested", "2026-03-10", []),
            ("la-received-request", "2026-03-11", []),
            ("mediation-concluded", "2026-05-05", []),
            ("agreement-reached", "2026-05-05", ["--item", "issue-plan"]),
        ],
        "agreement_issue-plan_final",
        "2026-07-21",
        "2026-07-21",
    ),
]


@pytest.mark.parametrize("example", WORKED_EXAMPLES, ids=[e[0] for e in WORKED_EXAMPLES])
def test_case_show_json_gives_the_worked_example_clock(drs, las, example):
    _, letter, received, events, clock, due, target = example
    ref = make_case("Salford", letter=letter, received=received)
    for name, on, extra in events:
        result = drs("case", "event", ref, name, "--on", on, "--today", on, *extra)
        assert result.exit_code == 0, result.stderr
    doc = drs("case", "show", ref, "--json", "--today", events[-1][1]).json()
    assert doc["clocks"][clock]["due"] == due
    assert doc["clocks"][clock]["target"] == target
    assert set(doc["clocks"][clock]) == {"due", "target", "state", "owner", "level", "met_on", "late_wd"}


def test_case_show_json_has_the_contract_shape(drs, las):
    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))
    assert drs("case", "event", ref, "mediation-declined", "--on", "2026-11-23", "--today", "2026-11-23").exit_code == 0
    doc = drs("case", "show", ref, "--json", "--today", "2026-11-23").json()
    assert doc["ref"] == ref and ref.startswith("DRS-2026-")
    assert doc["service"] == "mediation"
    assert doc["local_authority"] == "E08000003"
    assert doc["decision"] == {"type": "refuse_assessment", "letter_sent_on": "2026-11-12"}
    assert doc["received_on"] == "2026-11-20"
    assert doc["events"] == [{"event": "mediation-declined", "on": "2026-11-23"}]
    assert doc["clocks"]["certificate_due"] == {
        "due": "2026-11-26",
        "target": "2026-11-26",
        "state": "open",
        "owner": "adviser",
        "level": "SECONDARY",
        "met_on": None,
        "late_wd": None,
    }
    assert doc["clocks"]["appeal_deadline"]["due"] == "2027-01-12"
    assert doc["clocks"]["appeal_deadline"]["level"] == "VERIFIED"
    assert doc["status"] == "certificate-pending"
    assert doc["requester"]["email"] == "parent@families.example"
    redacted = drs("case", "show", ref, "--json", "--redact", "--today", "2026-11-23").json()
    assert "requester" not in redacted and "child" not in redacted
    assert "parent@families.example" not in drs("case", "show", ref, "--json", "--redact").stdout


def test_missed_clock_shows_missed_after_its_target(drs, las):
    ref = make_case("Bolton", letter=date(2026, 11, 2), received=date(2026, 11, 4))
    drs("case", "event", ref, "mediation-declined", "--on", "2026-11-05", "--today", "2026-11-05")
    assert (
        drs("case", "show", ref, "--json", "--today", "2026-11-10").json()["clocks"]["certificate_due"]["state"]
        == "open"
    )
    assert (
        drs("case", "show", ref, "--json", "--today", "2026-11-11").json()["clocks"]["certificate_due"]["state"]
        == "missed"
    )
    drs("case", "event", ref, "certificate-issued", "--on", "2026-11-09", "--type", "declined", "--today", "2026-11-11")
    assert (
        drs("case", "show", ref, "--json", "--today", "2026-11-11").json()["clocks"]["certificate_due"]["state"]
        == "met"
    )


def test_events_persist_clocks_for_the_indexed_sweep(drs, las, drs_env):
    from tasks.db import unit_of_work

    ref = make_case("Salford", letter=date(2025, 4, 1), received=date(2025, 4, 10))
    drs("case", "event", ref, "mediation-declined", "--on", "2025-04-17", "--today", "2025-04-17")
    with unit_of_work() as db:
        row = db.scalar(select(Clock).join(Case).where(Case.ref == ref, Clock.name == "certificate_due"))
        assert (row.due, row.target, row.state, row.owner, row.level) == (
            date(2025, 4, 24),
            date(2025, 4, 24),
            "open",
            "adviser",
            "SECONDARY",
        )
        event = db.scalar(select(CaseEvent).join(Case).where(Case.ref == ref))
        assert event.recorded_by == "cli:case-event"
        assert event.recorded_at.tzinfo is not None
        assert (
            db.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "event:mediation-declined")
            )
            == 1
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (["DRS-2026-99999", "closed", "--on", "2026-01-01"], "unknown case"),
        (["{ref}", "nonsense", "--on", "2026-01-01"], "nonsense"),
        (["{ref}", "closed", "--on", "01/02/2026"], "not a date"),
        (["{ref}", "certificate-issued", "--on", "2026-01-01", "--type", "bogus"], "--type"),  # no --type: inferred
        (["{ref}", "agreement-reached", "--on", "2026-01-01"], "--item"),
        (["{ref}", "agreement-step-done", "--on", "2026-01-01", "--item", "assess"], "no agreement on 'assess'"),
        (["{ref}", "closed", "--on", "2026-12-01", "--today", "2026-11-28"], "future"),
    ],
)
def test_bad_event_input_exits_2_and_writes_nothing(drs, las, args, message):
    from tasks.db import unit_of_work

    ref = make_case("Salford", letter=date(2025, 12, 1), received=date(2025, 12, 5))
    result = drs("case", "event", *[a.format(ref=ref) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr + result.stdout
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_la_import_and_list(drs, drs_env, tmp_path):
    csv_file = tmp_path / "las.csv"
    csv_file.write_text(
        "code,name,aliases,sen_team_email,finance_email,mileage_rate_pence,receipt_threshold_pounds,claim_window_days\n"
        "E08000009,Trafford,Trafford Council;Trafford MBC,sen@trafford.example,finance@trafford.example,40,15,60\n"
        "E08000010,Wigan,,sen@wigan.example,finance@wigan.example,,,\n"
    )
    assert drs("la", "import", str(csv_file)).exit_code == 0
    assert drs("la", "import", str(csv_file)).exit_code == 0  # idempotent
    rows = {r["code"]: r for r in drs("la", "list", "--json").json()}
    assert set(rows) == {"E08000009", "E08000010"}
    assert rows["E08000009"]["mileage_rate_pence"] == 40
    assert rows["E08000009"]["receipt_threshold_pounds"] == 15
    assert rows["E08000010"]["mileage_rate_pence"] == 45
    assert rows["E08000010"]["claim_window_days"] == 90
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,sen_team_email\nX1,Nowhere,not-an-email\n")
    result = drs("la", "import", str(bad))
    assert result.exit_code == 2 and "line 2" in result.stderr


def test_la_matched_by_name_alias_and_code_ignoring_council_words(las, drs_env):
    from tasks.cases.casework import find_local_authority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        assert find_local_authority(db, "Manchester City Council").code == "E08000003"
        assert find_local_authority(db, "e08000006").name == "Salford"
        assert find_local_authority(db, "BwD").code == "E06000008"
        assert find_local_authority(db, "Blackburn with Darwen Borough Council").code == "E06000008"
        assert find_local_authority(db, "Narnia") is None


def test_mediator_add_is_idempotent_and_validates(drs, drs_env):
    assert drs("mediator", "add", "--name", "Mediator One", "--email", "one@service.example").exit_code == 0
    assert drs("mediator", "add", "--name", "Mediator Uno", "--email", "ONE@service.example").exit_code == 0
    assert drs("mediator", "add", "--name", "Bad", "--email", "nope").exit_code == 2


def test_demo_loads_cases_in_every_state(drs, drs_env):
    assert drs("demo", "--today", "2026-11-28").exit_code == 0
    cases = drs("case", "list", "--json").json()
    assert 140 <= len(cases) <= 150
    statuses = {c["status"] for c in cases}
    assert {
        "new",
        "information-given",
        "certificate-pending",
        "certificate-issued",
        "mediation-arranged",
        "mediation-requested",
        "withdrawn",
        "closed",
    } <= statuses
    assert {c["local_authority"] for c in cases} >= {"E08000006", "E08000003", "E06000008"}
    salford = drs("case", "list", "--la", "Salford", "--json").json()
    assert salford and all(c["local_authority"] == "E08000006" for c in salford)
    assert drs("demo", "--today", "2026-11-28").exit_code == 0  # a second load adds nothing
    assert len(drs("case", "list", "--json").json()) == len(cases)


def test_timestamps_come_back_timezone_aware(drs_env, las):
    from models.db import LocalAuthority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == "E08000006"))
        assert la.created_at == datetime(2024, 1, 1, tzinfo=UTC)
        la.created_at = datetime.fromisoformat("2026-07-01T10:00:00+01:00")
        db.commit()
    with unit_of_work() as db:
        la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == "E08000006"))
        assert la.created_at.tzinfo is not None
        assert la.created_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_la_import_reads_optional_contract_email_and_approval_setting(drs, drs_env, tmp_path):
    csv_file = tmp_path / "las.csv"
    csv_file.write_text(
        "code,name,sen_team_email,finance_email,contract_email,certificate_needs_approval\n"
        "E08000002,Bury,sen@bury.example,fin@bury.example,contracts@bury.example,yes\n"
    )
    assert drs("la", "import", str(csv_file)).exit_code == 0
    row = drs("la", "list", "--json").json()[0]
    assert row["contract_email"] == "contracts@bury.example"
    assert row["certificate_needs_approval"] is True


def test_unmigrated_database_gives_one_line_and_exit_1(tmp_path):
    """The console entry point turns an unforeseen error into one line (no traceback) and exit 1."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DRS_")}
    env["DRS_HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "case", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "drs: error: the database has no tables yet: run `drs db upgrade` first"
    ]
    assert "Traceback" not in proc.stderr


def test_bad_setting_is_an_input_error_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DRS_")}
    env.update(DRS_HOME=str(tmp_path), DRS_SMTP_PORT="abc")
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "case", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("drs: error: bad configuration: DRS_SMTP_PORT")


def test_agreement_steps_done_meet_the_follow_up_clocks_in_order(drs, las):
    ref = make_case("Salford", letter=date(2026, 1, 5), received=date(2026, 1, 7))
    for args in (
        ["mediation-requested", "--on", "2026-01-08"],
        ["la-received-request", "--on", "2026-01-09"],
        ["mediation-concluded", "--on", "2026-02-02"],
        ["agreement-reached", "--on", "2026-02-02", "--item", "assess"],
        ["agreement-step-done", "--on", "2026-02-10", "--item", "assess"],
    ):
        assert drs("case", "event", ref, *args, "--today", "2026-03-01").exit_code == 0
    clocks = drs("case", "show", ref, "--json", "--today", "2026-03-01").json()["clocks"]
    assert clocks["agreement_assess_notify"]["state"] == "met"  # due 16 Feb, done 10 Feb
    assert clocks["agreement_assess_decide"]["state"] == "open"  # due 13 Apr

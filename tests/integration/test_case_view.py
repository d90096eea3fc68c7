"""What the case view says (issue 16): met_on / late_wd on every clock, plain clock names, the
`mediation-concluded` status, the `case list` header — through the real CLI, on both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.db import Case, Clock
from tests.integration.test_foundation_cli import make_case


def _events(drs, ref, *steps):
    for args in steps:
        r = drs("case", "event", ref, *args, "--today", "2026-12-31")
        assert r.exit_code == 0, r.stderr


def test_every_clock_carries_met_on_and_late_wd_and_a_late_certificate_shows(drs, las):
    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))
    # declined Mon 23 Nov → certificate due Thu 26 Nov; issued Fri 27 Nov: 1 working day late
    _events(
        drs,
        ref,
        ["mediation-declined", "--on", "2026-11-23"],
        ["certificate-issued", "--on", "2026-11-27", "--type", "declined"],
    )

    doc = drs("case", "show", ref, "--json", "--today", "2026-11-30").json()

    assert doc["clocks"]["certificate_due"] == {
        "due": "2026-11-26",
        "target": "2026-11-26",
        "state": "met",
        "owner": "adviser",
        "level": "SECONDARY",
        "met_on": "2026-11-27",
        "late_wd": 1,
    }
    assert doc["clocks"]["acknowledge_by"]["met_on"] == "2026-11-23"  # the first recorded contact
    assert doc["clocks"]["acknowledge_by"]["late_wd"] == 0  # target Fri 20 + 1 WD = Mon 23: on time
    for name, clock in doc["clocks"].items():
        assert {"met_on", "late_wd"} <= clock.keys(), name
        if clock["state"] == "met":
            assert clock["met_on"] and clock["late_wd"] >= 0, name
        else:
            assert clock["met_on"] is None and clock["late_wd"] is None, name
    redacted = drs("case", "show", ref, "--json", "--redact", "--today", "2026-11-30").json()
    assert redacted["clocks"]["certificate_due"]["late_wd"] == 1

    text = drs("case", "show", ref, "--today", "2026-11-30")
    assert text.exit_code == 0
    assert "Issue the mediation certificate [certificate_due]" in text.stdout
    assert "met 1 working day late (2026-11-27)" in text.stdout
    assert "Family's last day to appeal to the tribunal [appeal_deadline]" in text.stdout


def test_acknowledge_by_met_on_time_says_so_in_words(drs, las):
    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))
    _events(drs, ref, ["information-given", "--on", "2026-11-20"])

    doc = drs("case", "show", ref, "--json", "--today", "2026-11-30").json()
    text = drs("case", "show", ref, "--today", "2026-11-30").stdout

    assert (doc["clocks"]["acknowledge_by"]["met_on"], doc["clocks"]["acknowledge_by"]["late_wd"]) == ("2026-11-20", 0)
    assert "Acknowledge the referral [acknowledge_by]" in text
    assert "met on time (2026-11-20)" in text


def test_stored_clock_rows_keep_met_on_for_the_report(drs, las, drs_env):
    from tasks.db import unit_of_work

    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))
    _events(
        drs,
        ref,
        ["mediation-declined", "--on", "2026-11-23"],
        ["certificate-issued", "--on", "2026-11-27", "--type", "declined"],
    )

    with unit_of_work() as db:
        stored = db.scalar(select(Clock).join(Case).where(Case.ref == ref, Clock.name == "certificate_due"))
        assert (stored.state, stored.met_on) == ("met", date(2026, 11, 27))


def test_a_concluded_mediation_is_mediation_concluded_until_its_certificate(drs, las):
    ref = make_case("Salford", letter=date(2026, 10, 1), received=date(2026, 10, 5))
    _events(
        drs,
        ref,
        ["mediation-requested", "--on", "2026-10-06"],
        ["la-received-request", "--on", "2026-10-07"],
        ["mediation-concluded", "--on", "2026-11-02"],
    )
    other = make_case("Salford", letter=date(2026, 10, 1), received=date(2026, 10, 5))
    _events(drs, other, ["mediation-declined", "--on", "2026-10-06"])

    assert drs("case", "show", ref, "--json", "--today", "2026-11-03").json()["status"] == "mediation-concluded"
    concluded = drs("case", "list", "--status", "mediation-concluded", "--json").json()
    pending = drs("case", "list", "--status", "certificate-pending", "--json").json()
    assert [c["ref"] for c in concluded] == [ref]
    assert [c["ref"] for c in pending] == [other]

    _events(drs, ref, ["certificate-issued", "--on", "2026-11-04"])
    assert drs("case", "show", ref, "--json", "--today", "2026-11-05").json()["status"] == "certificate-issued"


def test_migration_0016_moves_stored_concluded_cases_to_mediation_concluded(drs, las, drs_env):
    from alembic import command

    from models.db.migrate import alembic_config
    from tasks.db import unit_of_work

    ref = make_case("Salford", letter=date(2026, 10, 1), received=date(2026, 10, 5))
    declined = make_case("Salford", letter=date(2026, 10, 1), received=date(2026, 10, 5))
    _events(
        drs,
        ref,
        ["mediation-requested", "--on", "2026-10-06"],
        ["mediation-concluded", "--on", "2026-11-02"],
        ["agreement-reached", "--on", "2026-11-02", "--item", "other"],
    )
    _events(drs, declined, ["mediation-requested", "--on", "2026-10-06"], ["mediation-declined", "--on", "2026-10-07"])
    cfg = alembic_config(drs_env.database_url)

    def statuses():
        with unit_of_work() as db:
            return dict(db.execute(select(Case.ref, Case.status).where(Case.ref.in_((ref, declined)))).all())

    try:
        command.downgrade(cfg, "0015")
        assert statuses() == {ref: "certificate-pending", declined: "certificate-pending"}  # as stored before
    finally:
        command.upgrade(cfg, "head")
    assert statuses() == {ref: "mediation-concluded", declined: "certificate-pending"}


def test_case_list_text_has_a_header_row_and_json_has_none(drs, las):
    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))

    lines = drs("case", "list").stdout.splitlines()
    rows = drs("case", "list", "--json").json()

    assert lines[0].split() == ["ref", "LA", "service", "status", "received"]
    assert lines[1].split() == [ref, "E08000003", "mediation", "new", "2026-11-20"]
    assert len(lines) == 2
    assert [r["ref"] for r in rows] == [ref]

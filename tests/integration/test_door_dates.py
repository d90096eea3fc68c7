"""Dates that cannot be (issue #12 §3): the sane window on every command, events before the
decision letter or the referral refused, and a monitor run that fails leaves no clock half-updated."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from tests.monitor_cases import add_event, at, make_case

SALFORD = "E08000006"


def _counts() -> tuple[int, int, int, int]:
    from models.db import AuditEntry, CaseEvent, Clock, OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return tuple(
            db.scalar(select(func.count()).select_from(t)) for t in (AuditEntry, CaseEvent, Clock, OutboxEmail)
        )


def _db_states(ref: str) -> dict[str, str]:
    from models.db import Case, Clock
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return dict(
            db.execute(
                select(Clock.name, Clock.state).join(Case, Case.id == Clock.case_id).where(Case.ref == ref)
            ).all()
        )


def _shown_states(drs, ref: str, day: date) -> dict[str, str]:
    r = drs("case", "show", ref, "--today", day.isoformat(), "--json")
    assert r.exit_code == 0, r.stderr
    return {name: c["state"] for name, c in r.json()["clocks"].items()}


def _la_case() -> str:
    """mediation_by is due Wed 2 Dec 2026 (request received by the LA on 2 Nov)."""
    return make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )


@pytest.mark.parametrize(
    "args",
    [
        ("monitor", "--today", "2999-01-01"),
        ("monitor", "--today", "1999-12-31"),
        ("monitor", "--now", "2101-01-01T09:00+00:00"),
        ("intake", "--today", "9999-12-31"),
        ("claims", "route", "--today", "1900-01-01"),
        ("mail", "deliver", "--now", "3000-06-01T10:00+01:00"),
        ("remind", "--today", "2200-01-01"),
        ("report", "monthly", "--month", "2026-10", "--today", "2500-01-01"),
        ("case", "show", "{ref}", "--today", "2101-01-01"),
        ("case", "event", "{ref}", "closed", "--on", "2101-01-01"),
        ("case", "event", "{ref}", "closed", "--on", "2026-11-30", "--today", "2999-01-01"),
        ("certificate", "issue", "{ref}", "--on", "1999-01-01"),
        ("session", "outcome", "1", "--result", "agreed", "--on", "2400-01-01"),
        (
            "session",
            "schedule",
            "{ref}",
            "--start",
            "2300-01-01T10:00",
            "--venue",
            "Hall",
            "--mediator",
            "m@service.example.org",
        ),
    ],
)
def test_a_date_outside_2000_to_2100_is_refused_with_one_line_and_nothing_written(las, drs, args):
    ref = _la_case()
    before = _counts()
    r = drs(*(a.format(ref=ref) for a in args))
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.startswith("drs: error")]
    assert len(lines) == 1 and "outside 2000-01-01 to 2100-12-31" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert _counts() == before


def test_flows_and_plain_functions_refuse_such_dates_too(las):
    from tasks.timekeeping import DateWindowError, resolve_now

    with pytest.raises(DateWindowError, match="today 2999-01-01 is outside"):
        resolve_now(None, date(2999, 1, 1))
    assert resolve_now(None, date(2100, 12, 31))[0] == date(2100, 12, 31)
    assert resolve_now(None, date(2000, 1, 1))[0] == date(2000, 1, 1)


def test_events_before_the_decision_letter_or_the_referral_are_refused(las, drs):
    from tasks.cases.casework import CaseworkError

    ref = _la_case()  # letter 20 Oct, received 29 Oct
    before = _counts()
    r = drs("case", "event", ref, "withdrawn", "--on", "2026-10-19", "--today", "2026-11-30")
    assert r.exit_code == 2 and "before the decision letter" in r.stderr and ref in r.stderr
    r = drs("case", "event", ref, "withdrawn", "--on", "2026-10-25", "--today", "2026-11-30")
    assert r.exit_code == 2 and f"before {ref} was received" in r.stderr
    r = drs("certificate", "issue", ref, "--on", "2026-10-21", "--type", "declined", "--today", "2026-11-30")
    assert r.exit_code == 2 and "drs: error" in r.stderr
    assert _counts() == before
    with pytest.raises(CaseworkError, match="before the decision letter"):  # what the admin form calls
        add_event(ref, "closed", date(2026, 10, 1), today=date(2026, 11, 30))
    r = drs("case", "event", ref, "withdrawn", "--on", "2026-10-29", "--today", "2026-11-30")
    assert r.exit_code == 0, r.stderr  # on the day received is fine


def test_a_monitor_run_that_fails_marks_nothing_missed_and_queues_nothing(las, drs, monkeypatch):
    import tasks.deadlines.sweep as sweep
    from models.db import OutboxEmail
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run

    ref = _la_case()
    run(date(2026, 11, 30), at(date(2026, 11, 30), 6, 45))
    assert _db_states(ref) == _shown_states(drs, ref, date(2026, 11, 30))
    before = _counts()

    def broken(*args, **kwargs):
        raise RuntimeError("mail templates broke half-way")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(sweep.alert_queue, "queue_alerts", broken)
        run(date(2026, 12, 3), at(date(2026, 12, 3), 6, 45))
    # nothing half-done: mediation_by is not marked missed without its missed alert
    assert _db_states(ref)["mediation_by"] == "open"
    assert _counts() == before  # before `case show --json`, which itself writes an audit line (a read)
    assert _db_states(ref) == _shown_states(drs, ref, date(2026, 11, 30))
    summary = run(date(2026, 12, 3), at(date(2026, 12, 3), 6, 45)).as_dict()
    assert summary["clocks_marked_missed"] == 1 and summary["alerts"] == {"missed": 1}
    assert _db_states(ref) == _shown_states(drs, ref, date(2026, 12, 3))
    with unit_of_work() as db:
        keys = set(db.scalars(select(OutboxEmail.key).where(OutboxEmail.kind == "alert-missed")))
    assert f"alert:{ref}:mediation_by:missed:2026-12-02:la" in keys


def test_clocks_marked_missed_by_a_later_dated_run_are_reopened_to_agree_with_case_show(las, drs):
    from models.db import Clock
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run as run_monitor

    ref = _la_case()
    with unit_of_work() as db:  # what a crashed far-future run used to leave behind
        db.execute(update(Clock).where(Clock.state == "open").values(state="missed"))
        db.commit()
    assert _db_states(ref)["mediation_by"] == "missed"
    run_monitor(date(2026, 11, 30), at(date(2026, 11, 30), 6, 45))
    assert _db_states(ref) == _shown_states(drs, ref, date(2026, 11, 30))
    assert _db_states(ref)["mediation_by"] == "open"


def test_one_certificate_that_cannot_be_issued_does_not_stop_the_monitor(las, monkeypatch):
    import tasks.certificates.issue as certificates
    from tasks.deadlines.job import run

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )

    def broken(*args, **kwargs):
        raise KeyError("a font table")

    monkeypatch.setattr(certificates, "issue", broken)
    summary = run(date(2026, 11, 25), at(date(2026, 11, 25), 6, 45)).as_dict()
    assert summary["certificates_issued"] == []
    assert summary["certificate_errors"] == [f"error: {ref}: the certificate could not be issued (KeyError)"]
    assert summary["digest_queued"] is True

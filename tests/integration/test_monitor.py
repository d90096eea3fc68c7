"""The deadline sweep against the real databases: alerts queued once, clocks marked missed, stale
clocks recomputed, declined certificates issued (or held for approval), the digest (issue #4)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from tests.monitor_cases import (
    FAMILY_EMAIL,
    PERSONAL,
    add_event,
    at,
    clock_state,
    make_case,
    outbox_rows,
    set_needs_approval,
)

SALFORD, MANCHESTER = "E08000006", "E08000003"
TEAM = "team@service.example.org"


def run(day: date, hour: int = 6, minute: int = 45) -> dict:
    from tasks.deadlines.job import run as run_monitor

    return run_monitor(day, at(day, hour, minute)).as_dict()


def declined_case(la: str = SALFORD, declined_on: date = date(2026, 11, 24)) -> str:
    return make_case(
        la,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", declined_on, {})),
    )


def test_a_declined_certificate_is_issued_by_the_monitor_and_nothing_is_sent_twice(las):
    from models.db import Certificate, OutboxEmail
    from tasks.db import unit_of_work

    ref = declined_case()
    first = run(date(2026, 11, 25))
    assert first["certificates_issued"] == [ref]
    assert first["awaiting_approval"] == [] and first["digest_queued"] is True
    assert clock_state(ref, "certificate_due")[0] == "met"
    # appeal deadline: the later of 12 Nov + 2 months (Tue 12 Jan 2027) and 25 Nov + 1 month
    assert clock_state(ref, "appeal_deadline")[1] == date(2027, 1, 12)
    with unit_of_work() as db:
        cert = db.scalar(select(Certificate))
        email = db.scalar(select(OutboxEmail).where(OutboxEmail.key == f"certificate:{cert.number}"))
        assert (cert.status, cert.type, cert.trigger_on, cert.issued_on) == (
            "issued",
            "declined",
            date(2026, 11, 24),
            date(2026, 11, 25),
        )
        assert email.to_addr == FAMILY_EMAIL and email.attachments[0].content.startswith(b"%PDF")
        assert email.not_before == at(date(2026, 11, 25), 8, 0)  # issued at 06:45: sent after quiet hours
    before = outbox_rows()
    second = run(date(2026, 11, 25), 12, 45)
    assert second["certificates_issued"] == [] and second["emails_queued"] == 0 and second["digest_queued"] is False
    assert outbox_rows() == before


def test_la_owned_clock_alerts_the_la_sen_team_and_the_team_then_is_marked_missed(las):
    ref = make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )
    assert clock_state(ref, "mediation_by") == ("open", date(2026, 12, 2), date(2026, 12, 2))
    summary = run(date(2026, 11, 30))
    assert summary["alerts"] == {"due-soon": 1}
    keys = {k: (to, subject, body) for k, to, subject, body in outbox_rows()}
    la_key = f"alert:{ref}:mediation_by:due-soon:2026-12-02:la"
    team_key = f"alert:{ref}:mediation_by:due-soon:2026-12-02:team"
    assert keys[la_key][0] == "sen@salford.example.org" and keys[team_key][0] == TEAM
    assert ref in keys[la_key][1] and PERSONAL[0] not in keys[team_key][2]
    assert PERSONAL[1] in keys[la_key][2]  # the family consented to us contacting the LA: it can find the case
    summary = run(date(2026, 12, 3))
    assert summary["clocks_marked_missed"] == 1 and summary["alerts"] == {"missed": 1}
    assert clock_state(ref, "mediation_by")[0] == "missed"
    assert f"alert:{ref}:mediation_by:missed:2026-12-02:la" in {k for k, *_ in outbox_rows()}


def test_an_la_that_wants_approval_gets_its_certificates_held_not_issued(las, drs):
    from models.db import Certificate
    from tasks.db import unit_of_work

    set_needs_approval(MANCHESTER)
    ref = declined_case(MANCHESTER)
    for hour in (6, 12):
        summary = run(date(2026, 11, 25), hour)
        assert summary["awaiting_approval"] == [ref] and summary["certificates_issued"] == []
    with unit_of_work() as db:
        rows = db.scalars(select(Certificate)).all()
        assert [(r.status, r.type) for r in rows] == [("awaiting_approval", "declined")]
        number = rows[0].number
    assert not [k for k, *_ in outbox_rows() if k.startswith("certificate:")]
    assert f"alert:{ref}:certificate_due:due-soon:2026-11-27:team" in {k for k, *_ in outbox_rows()}
    # an admin issues it by hand: the held number is used, the monitor stops asking
    r = drs("certificate", "issue", ref, "--on", "2026-11-25", "--today", "2026-11-25", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["number"] == number
    assert run(date(2026, 11, 26))["awaiting_approval"] == []


def test_web_form_decline_gets_its_event_and_certificate(las):
    ref = make_case(SALFORD, received_on=date(2026, 11, 23), letter_sent_on=date(2026, 11, 12), wants_mediation="no")
    summary = run(date(2026, 11, 24))
    assert summary["certificates_issued"] == [ref]
    assert clock_state(ref, "certificate_due")[0] == "met"


def test_section_i_only_and_drs_cases_get_no_certificate(las):
    make_case(
        SALFORD,
        received_on=date(2026, 11, 23),
        letter_sent_on=date(2026, 11, 12),
        wants_mediation="no",
        decision_type="plan_contents",
        sections=["I"],
    )
    make_case(
        SALFORD,
        received_on=date(2026, 11, 23),
        letter_sent_on=None,
        decision_type=None,
        service="drs",
        wants_mediation="no",
    )
    assert run(date(2026, 11, 25))["certificates_issued"] == []


def test_catch_up_after_downtime_sends_only_what_is_due_now(las):
    ref = make_case(
        SALFORD,
        received_on=date(2026, 10, 1),
        letter_sent_on=date(2026, 9, 25),
        events=(
            ("information-given", date(2026, 10, 2), {}),
            ("mediation-requested", date(2026, 10, 2), {}),
            ("la-received-request", date(2026, 11, 2), {}),
            ("mediation-concluded", date(2026, 11, 24), {}),
        ),
    )
    # certificate after mediation due Fri 27 Nov; the monitor was down until Tue 1 Dec
    summary = run(date(2026, 12, 1))
    assert summary["certificates_issued"] == []  # only declined certificates are automatic
    keys = [k for k, *_ in outbox_rows() if k.startswith("alert:")]
    assert keys == [f"alert:{ref}:certificate_due:missed:2026-11-27:team"]


def test_stale_clocks_are_recomputed_once_and_a_new_holiday_moves_them(las, drs_env):
    from models.db import Case
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import _calendar

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 11, 12),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-concluded", date(2026, 11, 24), {})),
    )
    make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))
    assert run(date(2026, 11, 24))["cases_recomputed"] == 2  # first run: no holiday digest stored yet
    assert run(date(2026, 11, 24))["cases_recomputed"] == 0
    with unit_of_work() as db:
        db.execute(update(Case).where(Case.ref == ref).values(rules_version="old"))
        db.commit()
    assert run(date(2026, 11, 24))["cases_recomputed"] == 1
    assert clock_state(ref, "certificate_due")[1] == date(2026, 11, 27)
    drs_env.extra_holidays_file.write_text("date,name\n2026-11-26,A proclaimed holiday\n")
    _calendar.cache_clear()
    assert run(date(2026, 11, 24))["cases_recomputed"] == 2
    assert clock_state(ref, "certificate_due")[1] == date(2026, 11, 30)


def test_family_gets_appeal_reminders_once_each(las):
    ref = declined_case()
    run(date(2026, 11, 25))  # issues the certificate: appeal deadline Tue 12 Jan 2027
    for day in (date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30), date(2027, 1, 7), date(2027, 1, 8)):
        run(day, 9, 30)
    family = [(k, s) for k, to, s, _ in outbox_rows() if to == FAMILY_EMAIL and k.startswith("alert:")]
    assert [k for k, _ in family] == [
        f"alert:{ref}:appeal_deadline:appeal-2-weeks:2027-01-12:family",
        f"alert:{ref}:appeal_deadline:appeal-3-wd:2027-01-12:family",
    ]
    assert all("Tuesday 12 January 2027" in s for _, s in family)
    add_event(ref, "closed", date(2027, 1, 8))


def test_digest_and_artifact_rows_carry_no_personal_data(las):
    from models.domain.digest import digest_rows
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.digest import digest_markdown, digest_table
    from tasks.deadlines.sweep import watched_clocks

    set_needs_approval(MANCHESTER)
    ref = declined_case(MANCHESTER)
    make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )
    run(date(2026, 11, 26))
    (digest,) = [(s, b) for k, _, s, b in outbox_rows() if k == "digest:2026-11-26"]
    rows = digest_rows(watched_clocks(date(2026, 11, 26)), date(2026, 11, 26), working_calendar())
    published = repr(digest_table(rows)) + digest_markdown(date(2026, 11, 26), rows)
    assert ref in digest[1] and ref in published and "Manchester" in digest[1]
    for text in (digest[0], digest[1], published):
        for secret in PERSONAL:
            assert secret not in text


def test_drs_monitor_json_prints_the_summary(las, drs):
    ref = declined_case()
    r = drs("monitor", "--today", "2026-11-25", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["certificates_issued"] == [ref] and doc["digest_queued"] is True
    assert set(doc) >= {"alerts", "emails_queued", "awaiting_approval", "clocks_marked_missed", "cases_recomputed"}
    assert "not recorded in the dashboard" in r.stderr
    assert "skipped without a server: dashboard artifacts, approval pauses" in r.stderr
    digest = next(row for row in outbox_rows() if row[0] == "digest:2026-11-25")[3]  # the same as the flow's
    assert "When each scheduled job last succeeded:" in digest
    assert "(the job history could not be read: no Prefect server reachable)" in digest
    r = drs("monitor", "--today", "2026-11-25")
    assert r.exit_code == 0 and "not queued (already queued today" in r.stdout


def test_lead_times_and_levels_come_from_the_policy_file(las, drs_env):
    ref = make_case(
        SALFORD,
        received_on=date(2026, 10, 29),
        letter_sent_on=date(2026, 10, 20),
        events=(
            ("information-given", date(2026, 10, 30), {}),
            ("mediation-requested", date(2026, 10, 30), {}),
            ("la-received-request", date(2026, 11, 2), {}),
        ),
    )  # mediation_by Wed 2 Dec 2026
    (drs_env.home / "alert-policy.json").write_text(
        '{"due_soon_wd_by_clock": {"mediation_by": 4}, "kinds": ["due-soon"]}'
    )
    assert run(date(2026, 11, 26))["alerts"] == {"due-soon": 1}  # 4 WD ahead: 27, 30 Nov, 1, 2 Dec
    assert run(date(2026, 12, 2))["alerts"] == {}  # due-today switched off
    # a mistyped file never stops the monitor: the last good policy stays in force, the team is told once
    (drs_env.home / "alert-policy.json").write_text('{"due_soon_wd": "soon"}')
    assert run(date(2026, 12, 3))["alerts"] == {}  # still due-soon only: the missed alert stays off
    assert run(date(2026, 12, 3))["alerts"] == {}
    notices = [r for r in outbox_rows() if r[0].startswith("admin-file:alert-policy.json:")]
    assert len(notices) == 1 and "due_soon_wd" in notices[0][3] and "alert-policy.json" in notices[0][3]
    assert clock_state(ref, "mediation_by")[0] == "missed"

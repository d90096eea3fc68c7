"""Issue 14: the sweep reads only the clocks that can alert or be in the digest — and decides the same.

`tasks.deadlines.sweep.watched_clocks` narrows the old window (every open or missed clock with a
target from `missed_lookback_days` ago to `horizon_days` ahead) in SQL (`tasks.deadlines.window`).
On a generated sample (bench/generate.py: 700 cases in every state, 5 LAs), for every day of five
months around the sample's "today" and under several policies, the alerts (`alerts_due`) and the
digest rows (`digest_rows`) decided from the narrowed rows must equal those decided from the old
window's rows (the old query is kept here, verbatim). The clocks are read as the data set left them
(open clocks past their target included: the rules must say the same about those too).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from models.domain.alerts import DEFAULT_POLICY, alerts_due, policy_from_mapping
from models.domain.digest import digest_rows

POLICIES = [
    DEFAULT_POLICY,
    policy_from_mapping({"due_soon_wd": 7, "due_soon_wd_by_clock": {"certificate_due": 12, "agreement_": 0}}),
    policy_from_mapping({"appeal_reminder_days": 3, "appeal_reminder_wd": 10, "digest_horizon_wd": 0}),
    policy_from_mapping({"appeal_reminder_days": 40, "missed_lookback_days": 5, "due_soon_wd": 0}),
    policy_from_mapping({"kinds": ["missed", "appeal-2-weeks"], "digest_horizon_wd": 9}),
]


def _old_watched_clocks(db, today, policy):
    """`watched_clocks` before the window was narrowed (the rows of the old window)."""
    from models.db import Case, Clock, LocalAuthority
    from tasks.deadlines.sweep import _watched

    cert = aliased(Clock)
    stmt = (
        select(
            Clock.case_id,
            Clock.name,
            Clock.due,
            Clock.target,
            Clock.state,
            Clock.owner,
            Clock.level,
            Clock.started_on,
            Clock.note,
            Case.ref,
            Case.service,
            Case.decision_type,
            Case.sections,
            Case.appeal_lodged,
            LocalAuthority.code,
            cert.state.label("cert_state"),
        )
        .join(Case, Case.id == Clock.case_id)
        .join(LocalAuthority, LocalAuthority.id == Case.la_id)
        .outerjoin(cert, and_(cert.case_id == Clock.case_id, cert.name == "certificate_due"))
        .where(
            Clock.state.in_(("open", "missed")),
            Clock.target >= today - timedelta(days=policy.missed_lookback_days),
            Clock.target <= today + timedelta(days=policy.horizon_days),
            Case.status != "closed",
        )
        .order_by(Clock.target, Case.ref, Clock.name)
    )
    return [_watched(r) for r in db.execute(stmt)]


def test_the_narrowed_window_decides_what_the_old_one_did(drs_env, database_url):
    from bench.generate import generate_cases
    from tasks.db import unit_of_work
    from tasks.deadlines.sweep import run_calendar, watched_clocks

    generate_cases(database_url, 700, seed=3, n_las=5)
    calendar = run_calendar()
    days = [date(2026, 10, 1) + timedelta(days=n) for n in range(150)]  # around the sample's 2026-11-30
    read = left_out = alerts = rows = 0
    with unit_of_work() as db:
        for policy in POLICIES:
            for today in days[:: 1 if policy is DEFAULT_POLICY else 3]:
                old = _old_watched_clocks(db, today, policy)
                new = watched_clocks(today, policy, db=db, calendar=calendar)
                assert set(new) <= set(old)
                old_alerts = alerts_due(old, today, calendar, policy)
                assert alerts_due(new, today, calendar, policy) == old_alerts, (today, policy)
                old_rows = digest_rows(old, today, calendar, policy)
                assert digest_rows(new, today, calendar, policy) == old_rows, (today, policy)
                read, left_out = read + len(new), left_out + len(old) - len(new)
                alerts, rows = alerts + len(old_alerts), rows + len(old_rows)
    assert alerts > 1000 and rows > 1000  # a real sample: the rules said something most days
    assert left_out > read  # and most of the old window was decided "nothing"


def test_the_window_query_finds_the_missed_alerts_already_queued(drs_env, database_url):
    """The outbox keys of `missed` alerts queued on an earlier day come back with the clocks (so the
    alert queue does not look them up): exactly those, on SQLite and PostgreSQL alike."""
    from datetime import datetime

    from bench.generate import generate_cases
    from models.domain.alerts import MISSED, alert_key
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run
    from tasks.deadlines.sweep import _watched_and_queued, run_calendar
    from tasks.mail.outbox import existing_keys

    generate_cases(database_url, 300, seed=5, n_las=3)
    run(date(2026, 11, 30), datetime.fromisoformat("2026-11-30T07:00:00+00:00"))
    today, calendar = date(2026, 12, 7), run_calendar()
    with unit_of_work() as db:
        clocks, known = _watched_and_queued(today, DEFAULT_POLICY, db, calendar)
        missed = [a for a in alerts_due(clocks, today, calendar) if a.kind == MISSED]
        keys = {alert_key(a, audience) for a in missed for audience in a.audiences}
        assert known == existing_keys(db, keys)
    assert len(known) > 5

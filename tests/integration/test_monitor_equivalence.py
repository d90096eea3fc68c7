"""Issue 14: the set-based alert queue gives exactly what the old one did.

The same generated sample (bench/generate.py: 700 cases in every state, 5 LAs) is swept day after
day twice — once with the OLD `queue_alerts` (kept only here, as it was before issue 14: an ORM
case per alert, every alert rendered and looked up by key, one SELECT each) and once with the
project's — and the outbox rows (keys, recipients, subjects, bodies, times), the clocks and the
run summaries must be the same. SQLite only: the sample is copied as a file.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

TZ = ZoneInfo("Europe/London")
#: (day, hour): the first sweep after loading, the next day's two runs, a weekend, a week later
RUNS = [(date(2026, 11, 30), 12), (date(2026, 12, 1), 7), (date(2026, 12, 1), 12), (date(2026, 12, 5), 7)]
RUNS += [(date(2026, 12, 7), 7), (date(2026, 12, 14), 7)]


def _old_queue_alerts(alerts, now, policy, db=None) -> int:
    """`tasks.deadlines.alert_queue.queue_alerts` before issue 14 (the caller's transaction)."""
    from models.db import Case
    from models.domain.alerts import FAMILY, LA, alert_key, not_before_for
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.mail.outbox import queue_email
    from tasks.settings import get_settings

    calendar = working_calendar()
    local_now = now.astimezone(ZoneInfo(get_settings().timezone))
    case_ids = {a.case_id for a in alerts if a.case_id is not None and (FAMILY in a.audiences or LA in a.audiences)}
    cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
    queued = 0
    for alert in alerts:
        for audience in alert.audiences:
            email = _old_email_for(alert, audience, cases.get(alert.case_id))
            if email is None:
                continue
            to, (subject, text, html) = email
            row = queue_email(
                db,
                key=alert_key(alert, audience),
                kind=f"alert-{alert.kind}",
                to=to,
                subject=subject,
                text=text,
                html=html,
                now=now,
                case_id=alert.case_id,
                not_before=not_before_for(audience, local_now, calendar, policy),
            )
            queued += row is not None
    return queued


def _old_email_for(alert, audience, case):
    from models.domain.alerts import LA, TEAM
    from tasks.deadlines.emails import LaContext, family_reminder, la_alert, team_alert
    from tasks.settings import get_settings

    if audience == TEAM:
        la_emailed = bool(case and case.local_authority and case.local_authority.sen_team_email)
        return get_settings().team_email, team_alert(alert, la_emailed or LA not in alert.audiences)
    if audience == LA:
        la = case.local_authority if case else None
        if case is None or la is None or not la.sen_team_email:
            return None
        ctx = LaContext(la.name, case.child_name if case.consent_to_contact_la else None, case.decision_letter_sent_on)
        return la.sen_team_email, la_alert(alert, ctx)
    if case is None or not case.requester_email:
        return None
    return case.requester_email, family_reminder(alert, case.requester_name)


def _sweep_days() -> tuple[list[dict], list[tuple], list[tuple]]:
    """Run the monitor for every run of `RUNS`; the summaries, outbox rows and clocks after."""
    from models.db import Clock, OutboxEmail
    from tasks.db import unit_of_work
    from tasks.deadlines.job import run

    summaries = [run(day, datetime(day.year, day.month, day.day, hour, 30, tzinfo=TZ)).as_dict() for day, hour in RUNS]
    with unit_of_work() as db:
        outbox = [
            (r.key, r.kind, r.to_addr, r.subject, r.body_text, r.body_html, r.case_id, r.status, r.not_before)
            + (r.next_attempt_at, r.created_at)
            for r in db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        ]
        clocks = [
            (c.case_id, c.name, c.due, c.target, c.state, c.owner, c.level, c.started_on, c.met_on, c.note)
            for c in db.scalars(select(Clock).order_by(Clock.case_id, Clock.name))
        ]
    return summaries, outbox, clocks


def _vary_contacts() -> None:
    """Every branch of the emails: an LA with no SEN team address, families with none, consent
    to name the child to the LA given or not."""
    from sqlalchemy import func, update

    from models.db import Case, LocalAuthority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        first_la = db.scalar(select(func.min(LocalAuthority.id)))
        db.execute(update(LocalAuthority).where(LocalAuthority.id == first_la).values(sen_team_email=None))
        db.execute(update(Case).where(Case.id % 3 == 0).values(requester_email=None))
        db.execute(update(Case).values(consent_to_contact_la=Case.id % 2 == 0))
        db.commit()


def _copy(source: str, target: str) -> None:
    """A SQLite database with its write-ahead log, if any."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(source + suffix):
            shutil.copy(source + suffix, target + suffix)
        elif os.path.exists(target + suffix):
            os.remove(target + suffix)


def test_the_set_based_alert_queue_queues_what_the_old_one_did(drs_env, database_url, monkeypatch):
    if not database_url.startswith("sqlite"):
        pytest.skip("the sample is copied as a SQLite file")
    from bench.generate import generate_cases
    from tasks.db import engine_for
    from tasks.deadlines import alert_queue

    generate_cases(database_url, 700, seed=3, n_las=5)
    _vary_contacts()
    engine_for(database_url).dispose()
    path = database_url.removeprefix("sqlite:///")
    _copy(path, path + ".sample")

    new = _sweep_days()
    engine_for(database_url).dispose()
    _copy(path + ".sample", path)
    monkeypatch.setattr(alert_queue, "queue_alerts", _old_queue_alerts)
    old = _sweep_days()

    assert new[0][0]["emails_queued"] > 20  # a real sample
    assert any(s["emails_queued"] == 0 and sum(s["alerts"].values()) for s in new[0])  # a run with all queued
    assert new[0] == old[0]
    assert len(new[1]) == len(old[1]) and new[1] == old[1]
    assert new[2] == old[2]

"""Queue the session reminders and outcome nudges that are due (`drs remind`, flow `session-reminders`).

The decision is pure (`models.domain.sessions.reminders_due`); this module loads the candidate
meetings, asks it, and turns each decision into an outbox row keyed
`reminder:<session_id>:<attendee_id>:<kind>:<sequence>` — exactly once per (session, attendee,
kind, session version): a rerun finds the key and queues nothing; a reschedule raises the
sequence, so the new version gets fresh reminders; a cancelled or held meeting gets none.

Quiet hours (20:00-08:00 local): a reminder is not queued before its time moved out of quiet
hours (so one due overnight is queued by the first run from 08:00), and a run inside quiet
hours (a manual `drs remind` at night) queues with `not_before` = the next 08:00.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models.db import Case, MediationSession
from models.domain.sessions import (
    OUTCOME_KIND,
    AttendeeSnapshot,
    ReminderDue,
    ReminderPolicy,
    SessionSnapshot,
    reminders_due,
)
from tasks.db import unit_of_work
from tasks.deadlines.calendar_source import working_calendar
from tasks.mail.outbox import queue_email
from tasks.sessions.emails import attendee_lines, outcome_nudge, reminder
from tasks.sessions.invites import ics_attachment
from tasks.sessions.meetings import meeting_texts, session_ics
from tasks.timekeeping import local_tz


def snapshot(session: MediationSession) -> SessionSnapshot:
    """The pure view of a session row (only attendees with an email address)."""
    return SessionSnapshot(
        session_id=session.id,
        sequence=session.sequence,
        start=session.start_at,
        end=session.end_at,
        version_at=session.booked_at,
        status=session.status,
        outcome_recorded=session.outcome is not None,
        attendees=tuple(
            AttendeeSnapshot(a.id, a.role) for a in sorted(session.attendees, key=lambda a: a.id) if a.email
        ),
    )


def _candidate_ids(now: datetime, policy: ReminderPolicy) -> list[int]:
    """Scheduled meetings close enough to now to owe a reminder or a nudge."""
    earliest_end = now - policy.nudge_delay - policy.nudge_window - timedelta(days=1)
    with unit_of_work() as db:
        return list(
            db.scalars(
                select(MediationSession.id)
                .where(
                    MediationSession.status == "scheduled",
                    MediationSession.start_at <= now + policy.horizon,
                    MediationSession.end_at >= earliest_end,
                )
                .order_by(MediationSession.start_at, MediationSession.id)
            )
        )


def _queue_one(db, session: MediationSession, case: Case, due: ReminderDue, now: datetime) -> bool:
    attendee = next(a for a in session.attendees if a.id == due.attendee_id)
    _, text = meeting_texts(session, case)
    if due.kind == OUTCOME_KIND:
        subject, body, html = outcome_nudge(text, name=attendee.name, session_id=session.id)
        attachments = []
        kind = "outcome-nudge"
    else:
        subject, body, html = reminder(
            text,
            name=attendee.name,
            role=attendee.role,
            authority_to_settle=attendee.authority_to_settle,
            others=attendee_lines(session.attendees),
        )
        attachments = [ics_attachment(session_ics(session, case, attendee, now))]
        kind = "session-reminder"
    row = queue_email(
        db,
        key=due.key,
        kind=kind,
        to=attendee.email,
        subject=subject,
        text=body,
        html=html,
        now=now,
        case_id=case.id,
        attachments=attachments,
        not_before=due.not_before,
    )
    return row is not None


def queue_due_reminders(now: datetime, before: Sequence[str] | None = None) -> dict:
    """Queue every reminder and nudge due at `now` (aware). `before`: reminder offsets such as
    ['7d', '1wd'] (the default). Returns counts: checked (meetings looked at), queued,
    already_queued, superseded (earlier reminders replaced by a later one due at the same
    time), deferred (queued for 08:00 because `now` is in quiet hours), by_kind.
    Raises `ValueError` for a bad offset."""
    policy = ReminderPolicy.from_texts(before)
    tz, calendar = local_tz(), working_calendar()
    counts: Counter = Counter()
    by_kind: Counter = Counter()
    ids = _candidate_ids(now, policy)
    for session_id in ids:  # one short transaction per meeting
        due: list[ReminderDue] = []
        try:
            with unit_of_work() as db:
                session = db.get(MediationSession, session_id)
                if session is None or session.status != "scheduled":
                    continue
                due = reminders_due([snapshot(session)], now, calendar, tz, policy)
                if not due:
                    continue
                case = db.get(Case, session.case_id)
                queued = Counter()
                for d in due:
                    if _queue_one(db, session, case, d, now):
                        queued["queued"] += 1
                        queued[f"kind:{d.kind}"] += 1
                        queued["deferred"] += d.not_before is not None
                        queued["superseded"] += len(d.superseded)
                    else:
                        queued["already_queued"] += 1
                db.commit()
        except IntegrityError:  # a concurrent run queued the same keys first
            counts["already_queued"] += len(due)
            continue
        for key, value in queued.items():
            if key.startswith("kind:"):
                by_kind[key[5:]] += value
            else:
                counts[key] += value
    return {
        "now": now.isoformat(),
        "checked": len(ids),
        "queued": counts["queued"],
        "already_queued": counts["already_queued"],
        "superseded": counts["superseded"],
        "deferred": counts["deferred"],
        "by_kind": dict(sorted(by_kind.items())),
    }

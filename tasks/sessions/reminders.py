"""The steps of the session reminders job (`tasks.sessions.job`): find the meetings, queue what is due.

The decision is pure (`models.domain.session_reminders.reminders_due`); this module loads the
candidate meetings, asks it, and turns each decision into an outbox row keyed
`reminder:<session_id>:<attendee_id>:<kind>:<sequence>` — exactly once per (session, attendee,
kind, session version): a rerun finds the key and queues nothing; a reschedule raises the
sequence, so the new version gets fresh reminders; a cancelled or held meeting gets none.

Quiet hours (`models.domain.quiet_hours`, 20:00-08:00 local): a reminder is not queued before its
time moved out of quiet hours (so one due overnight is queued by the first run from 08:00), and a
run inside quiet hours (a manual `drs remind` at night) queues with `not_before` = the next 08:00.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import Case, MediationSession
from models.domain.session_reminders import (
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
from tasks.sessions.invites import ics_attachment, session_ics
from tasks.sessions.meeting_view import meeting_of
from tasks.sessions.slots import case_of
from tasks.timekeeping import local_tz


@dataclass(frozen=True)
class ReminderCounts:
    """What one pass over the candidate meetings queued (no personal data)."""

    queued: int = 0
    already_queued: int = 0
    superseded: int = 0
    deferred: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


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


def find_due_meetings(now: datetime, policy: ReminderPolicy) -> list[int]:
    """The ids of the scheduled meetings close enough to `now` to owe a reminder or a nudge."""
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


def _queue_one(db: Session, session: MediationSession, case: Case, due: ReminderDue, now: datetime) -> bool:
    attendee = next(a for a in session.attendees if a.id == due.attendee_id)
    meeting = meeting_of(session, case)
    if due.kind == OUTCOME_KIND:
        subject, body, html = outcome_nudge(meeting, name=attendee.name, session_id=session.id)
        attachments = []
        kind = "outcome-nudge"
    else:
        subject, body, html = reminder(
            meeting,
            name=attendee.name,
            role=attendee.role,
            authority_to_settle=attendee.authority_to_settle,
            others=attendee_lines(session.attendees),
        )
        attachments = [ics_attachment(session_ics(session, case, attendee, now))]
        kind = "session-reminder"
    assert attendee.email  # the rules remind only attendees with an address (`snapshot`)
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


def _queue_for_meeting(session_id: int, now: datetime, policy: ReminderPolicy, counts: Counter) -> None:
    """Queue what one meeting owes at `now`, in its own short transaction."""
    due: list[ReminderDue] = []
    queued: Counter = Counter()
    try:
        with unit_of_work() as db:
            session = db.get(MediationSession, session_id)
            if session is None or session.status != "scheduled":
                return
            due = reminders_due([snapshot(session)], now, working_calendar(), local_tz(), policy)
            if not due:
                return
            case = case_of(db, session)
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
        return
    counts.update(queued)


def queue_due_reminders(now: datetime, session_ids: list[int], policy: ReminderPolicy) -> ReminderCounts:
    """Queue every reminder and nudge due at `now` (aware) for the meetings `session_ids`:
    queued, already_queued, superseded (earlier reminders replaced by a later one due at the
    same time), deferred (queued for 08:00 because `now` is in quiet hours), by_kind."""
    counts: Counter = Counter()
    for session_id in session_ids:
        _queue_for_meeting(session_id, now, policy, counts)
    by_kind = {key[5:]: value for key, value in counts.items() if key.startswith("kind:")}
    return ReminderCounts(
        queued=counts["queued"],
        already_queued=counts["already_queued"],
        superseded=counts["superseded"],
        deferred=counts["deferred"],
        by_kind=dict(sorted(by_kind.items())),
    )

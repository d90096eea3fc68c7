"""The emails a session command queues with its change: one per attendee, `.ics` attached, and
the withdrawal of reminders that would speak of a meeting that moved or is gone.

Outbox keys: `invite:<session>:<attendee>:<sequence>` (invitation, or update after a
reschedule), `cancel:<session>:<attendee>:<sequence>`. All session emails honour quiet hours
(`models.domain.quiet_hours`): queued between 20:00 and 08:00, they carry `not_before` = 08:00.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.db import Case, MediationSession, OutboxAttachment, OutboxEmail
from models.domain.quiet_hours import family_not_before
from tasks.mail.outbox import queue_email
from tasks.sessions.emails import attendee_lines, cancellation, invitation
from tasks.sessions.invites import ics_attachment, session_ics
from tasks.sessions.meeting_view import meeting_of
from tasks.timekeeping import local_tz


def withdraw_unsent_reminders(db: Session, session: MediationSession) -> int:
    """Delete the reminders of `session` still waiting in the outbox (status pending: e.g. held
    for 08:00 by quiet hours, or not yet swept by delivery): after a cancellation or a move they
    would tell attendees about a meeting that is gone or at its old time. Their keys belong to
    the old version, so nothing queues them again. Returns how many were withdrawn."""
    stale = select(OutboxEmail.id).where(
        OutboxEmail.key.like(f"reminder:{session.id}:%"), OutboxEmail.status == "pending"
    )
    ids = list(db.scalars(stale))
    if ids:
        db.execute(delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(ids)))
        db.execute(delete(OutboxEmail).where(OutboxEmail.id.in_(ids)))
    return len(ids)


def queue_for_attendees(db: Session, session: MediationSession, case: Case, now: datetime, *, kind: str) -> int:
    """Queue one email per attendee with an address: 'session-invite', 'session-update' or 'session-cancel'."""
    meeting = meeting_of(session, case)
    method = "CANCEL" if kind == "session-cancel" else "REQUEST"
    prefix = "cancel" if kind == "session-cancel" else "invite"
    not_before = family_not_before(now, local_tz())
    others = attendee_lines(session.attendees)
    queued = 0
    for a in session.attendees:
        if not a.email:
            continue
        if kind == "session-cancel":
            subject, body, html = cancellation(meeting, name=a.name)
        else:
            subject, body, html = invitation(
                meeting,
                name=a.name,
                role=a.role,
                authority_to_settle=a.authority_to_settle,
                update=kind == "session-update",
                others=others,
            )
        row = queue_email(
            db,
            key=f"{prefix}:{session.id}:{a.id}:{session.sequence}",
            kind=kind,
            to=a.email,
            subject=subject,
            text=body,
            html=html,
            now=now,
            case_id=case.id,
            not_before=not_before,
            attachments=[ics_attachment(session_ics(session, case, a, now, method), method)],
        )
        queued += row is not None
    return queued

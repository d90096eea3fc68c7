"""Loading a session, and a meeting's slot against the others and against the notice rule (the database side of
`models.domain.sessions`): `SessionError` when the mediator or the venue is taken, or when the
meeting is inside the statutory notice period without the family's agreement."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Case, MediationSession
from models.domain.rules import ruleset_for
from models.domain.sessions import Booking, BookingError, check_booking, inside_notice, notice_by
from models.errors import InternalError
from tasks.deadlines.calendar_source import working_calendar
from tasks.sessions.requests import SessionError, SessionResult
from tasks.timekeeping import local_tz


def local_today(now: datetime) -> date:
    return now.astimezone(local_tz()).date()


def _existing(db: Session, start: datetime, end: datetime) -> list[Booking]:
    rows = db.scalars(
        select(MediationSession).where(
            MediationSession.status == "scheduled", MediationSession.start_at < end, MediationSession.end_at > start
        )
    )
    return [Booking(r.mediator_id, r.start_at, r.end_at, r.venue, r.id) for r in rows]


def check_slot(db: Session, candidate: Booking, now: datetime) -> None:
    """`SessionError` when `candidate` breaks a booking rule (past, overlapping)."""
    try:
        check_booking(candidate, _existing(db, candidate.start, candidate.end), now, local_tz())
    except BookingError as exc:
        raise SessionError(str(exc)) from None


def check_notice(start: datetime, now: datetime, short_notice_agreed: bool) -> tuple[date, bool]:
    """(notice_by, inside the notice period). Refused inside it unless the family agreed."""
    tz = local_tz()
    starts_on = start.astimezone(tz).date()
    rules = ruleset_for(starts_on)
    calendar = working_calendar()
    by = notice_by(starts_on, calendar, rules.notice_wd)
    short = inside_notice(starts_on, local_today(now), calendar, rules.notice_wd)
    if short and not short_notice_agreed:
        raise SessionError(
            f"the meeting is inside the {rules.notice_wd}-working-day notice period (notice was due by "
            f"{by.isoformat()}); book it with --short-notice-agreed only if the family agreed to shorter notice"
        )
    return by, short


def load_session(db: Session, session_id: int, *, for_update: bool = True) -> MediationSession:
    stmt = select(MediationSession).where(MediationSession.id == session_id)
    if for_update:
        stmt = stmt.with_for_update()
    session = db.scalar(stmt)
    if session is None:
        raise SessionError(f"unknown session {session_id}")
    return session


def result_of(session: MediationSession, case: Case, **extra) -> SessionResult:
    return SessionResult(
        session_id=session.id,
        case_ref=case.ref,
        status=session.status,
        sequence=session.sequence,
        start=session.start_at,
        end=session.end_at,
        **extra,
    )


def case_of(db: Session, session: MediationSession) -> Case:
    """The case `session` belongs to (the foreign key guarantees one)."""
    case = db.get(Case, session.case_id)
    if case is None:
        raise InternalError(f"session {session.id} has no case")
    return case

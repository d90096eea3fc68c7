"""Book, move, cancel and conclude mediation meetings: one transaction each, with its emails.

Every function opens its own unit of work, checks the rules (`models.domain.sessions`),
changes the session, queues one email per attendee in the outbox with the `.ics` attached
(`tasks.sessions.session_mail`), recomputes the case's clocks (`notice_by` follows the next
scheduled meeting) and commits them together. `SessionError` carries a one-line reason and
nothing is written. The request checks and `SessionResult` are in `tasks.sessions.requests`,
the checks against other meetings and the notice rule in `tasks.sessions.slots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from models.db import MediationSession
from models.domain.sessions import Booking, default_end
from tasks.cases.casework import CaseworkError, audit, get_case, recompute_clocks
from tasks.db import unit_of_work
from tasks.sessions.booking import active_mediator, attendees_for, new_session
from tasks.sessions.outcome import record_outcome
from tasks.sessions.requests import (
    CANCELLED_BY,
    ROLES,
    Person,
    SessionError,
    SessionResult,
    check_place,
    check_times,
    parse_person,
)
from tasks.sessions.session_mail import queue_for_attendees, withdraw_unsent_reminders
from tasks.sessions.slots import case_of, check_notice, check_slot, load_session, local_today, result_of

__all__ = [
    "CANCELLED_BY",
    "ROLES",
    "Person",
    "SessionError",
    "SessionResult",
    "cancel_session",
    "parse_person",
    "record_outcome",
    "reschedule_session",
    "schedule_session",
]


def _new_place(
    session: MediationSession, venue: str | None, online_url: str | None, access_notes: str | None
) -> dict[str, str | None]:
    """The place after a move: a value given replaces the old one ("" clears it), None keeps it."""
    place = {
        "venue": session.venue if venue is None else (venue.strip() or None),
        "online_url": session.online_url if online_url is None else (online_url.strip() or None),
        "access_notes": session.access_notes if access_notes is None else (access_notes.strip() or None),
    }
    if place["venue"] is None and place["online_url"] is None:
        raise SessionError("a meeting needs a venue or an online link")
    return place


# --- the four commands -------------------------------------------------------------------------
def schedule_session(
    case_ref: str,
    *,
    start: datetime,
    end: datetime | None,
    mediator_email: str,
    now: datetime,
    venue: str | None = None,
    online_url: str | None = None,
    access_notes: str | None = None,
    attendees: Sequence[Person] = (),
    supporter: Person | None = None,
    la_officer: Person | None = None,
    authority_to_settle: bool = False,
    icb: Person | None = None,
    short_notice_agreed: bool = False,
    actor: str = "cli:session-schedule",
) -> SessionResult:
    """Book a meeting for case `case_ref` and invite everyone (family from the case's requester,
    mediator, supporter, LA officer, ICB, others). Raises `SessionError`."""
    check_place(venue, online_url, access_notes)
    check_times(start, end)
    venue, online_url = (venue or "").strip() or None, (online_url or "").strip() or None
    if venue is None and online_url is None:
        raise SessionError("give a --venue (address) or an --online link")
    end = end or default_end(start)
    with unit_of_work() as db:
        try:
            case = get_case(db, case_ref, for_update=True)
        except CaseworkError as exc:
            raise SessionError(str(exc)) from None
        mediator = active_mediator(db, mediator_email)
        check_slot(db, Booking(mediator.id, start, end, venue), now)
        by, short = check_notice(start, now, short_notice_agreed)
        unique = attendees_for(
            case, mediator, [("supporter", supporter), ("la", la_officer), ("icb", icb)], attendees, authority_to_settle
        )
        place = (venue, online_url, access_notes)
        session = new_session(case, mediator, unique, start, end, place, now, bool(short_notice_agreed and short))
        db.add(session)
        db.flush()
        queued = queue_for_attendees(db, session, case, now, kind="session-invite")
        detail = {"session_id": session.id, "sequence": 0, "short_notice": short}
        audit(db, actor, "session:scheduled", case.id, now, detail)
        recompute_clocks(db, case, local_today(now), now)
        db.commit()
        notes = ("the case includes health care issues: invite the ICB representative with --icb",)
        return result_of(
            session,
            case,
            notice_by=by,
            short_notice=short,
            emails_queued=queued,
            without_email=tuple(a.role for a in unique if not a.email),
            notes=notes if case.health_issues and icb is None else (),
        )


def reschedule_session(
    session_id: int,
    *,
    start: datetime,
    end: datetime | None,
    now: datetime,
    short_notice_agreed: bool = False,
    venue: str | None = None,
    online_url: str | None = None,
    access_notes: str | None = None,
    actor: str = "cli:session-reschedule",
) -> SessionResult:
    """Move a scheduled meeting (and, when given, change its venue, link or access notes; "" clears
    one): same UID, SEQUENCE + 1, an update to every attendee; reminders start afresh for the new
    version. Raises `SessionError`."""
    check_place(venue, online_url, access_notes)
    check_times(start, end)
    end = end or default_end(start)
    with unit_of_work() as db:
        session = load_session(db, session_id)
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}; only a scheduled meeting can be moved")
        place = _new_place(session, venue, online_url, access_notes)
        unchanged = all(getattr(session, k) == v for k, v in place.items())
        if session.start_at == start and session.end_at == end and unchanged:
            raise SessionError(f"session {session_id} already has that time and place")
        check_slot(db, Booking(session.mediator_id, start, end, place["venue"], session.id), now)
        by, short = check_notice(start, now, short_notice_agreed)
        case = case_of(db, session)
        session.start_at, session.end_at = start, end
        for name, value in place.items():
            setattr(session, name, value)
        session.sequence += 1
        session.booked_at = now  # notice of the current date and place was given now
        session.short_notice_agreed = bool(short_notice_agreed and short)
        session.updated_at = now
        db.flush()
        withdrawn = withdraw_unsent_reminders(db, session)
        queued = queue_for_attendees(db, session, case, now, kind="session-update")
        audit(
            db,
            actor,
            "session:rescheduled",
            case.id,
            now,
            {
                "session_id": session.id,
                "sequence": session.sequence,
                "short_notice": short,
                "reminders_withdrawn": withdrawn,
            },
        )
        recompute_clocks(db, case, local_today(now), now)
        db.commit()
        return result_of(session, case, notice_by=by, short_notice=short, emails_queued=queued)


def cancel_session(
    session_id: int, *, now: datetime, cancelled_by: str = "service", actor: str = "cli:session-cancel"
) -> SessionResult:
    """Cancel a scheduled meeting: METHOD:CANCEL (SEQUENCE + 1) to every attendee, no more
    reminders, and the case's `notice_by` clock follows the next meeting (or goes)."""
    if cancelled_by not in CANCELLED_BY:
        raise SessionError(f"--by must be one of: {', '.join(CANCELLED_BY)}")
    with unit_of_work() as db:
        session = load_session(db, session_id)
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}; only a scheduled meeting can be cancelled")
        case = case_of(db, session)
        session.status, session.cancelled_by, session.cancelled_at = "cancelled", cancelled_by, now
        session.sequence += 1
        session.updated_at = now
        db.flush()
        withdrawn = withdraw_unsent_reminders(db, session)
        queued = queue_for_attendees(db, session, case, now, kind="session-cancel")
        audit(
            db,
            actor,
            "session:cancelled",
            case.id,
            now,
            {
                "session_id": session.id,
                "sequence": session.sequence,
                "by": cancelled_by,
                "reminders_withdrawn": withdrawn,
            },
        )
        recompute_clocks(db, case, local_today(now), now)
        db.commit()
        return result_of(session, case, emails_queued=queued)

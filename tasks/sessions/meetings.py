"""Book, move, cancel and conclude mediation meetings: one transaction each, with its emails.

Every function opens its own unit of work, checks the rules (`models.domain.sessions`),
changes the session, queues one email per attendee in the outbox (with the `.ics` attached),
recomputes the case's clocks (`notice_by` follows the next scheduled meeting) and commits
them together. `SessionError` carries a one-line reason and nothing is written.

Outbox keys: `invite:<session>:<attendee>:<sequence>` (invitation, or update after a
reschedule), `cancel:<session>:<attendee>:<sequence>`. All session emails honour quiet hours
(20:00-08:00 local): queued then, they carry `not_before` = the next 08:00.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.db import Case, MediationSession, Mediator, OutboxAttachment, OutboxEmail, SessionAttendee
from models.domain.rules import ruleset_for
from models.domain.sessions import (
    Booking,
    BookingError,
    check_booking,
    default_end,
    inside_notice,
    notice_by,
    quiet_adjust,
)
from models.domain.vocabulary import AGREEMENT_ITEMS, OUTCOMES
from models.errors import InvalidInput
from tasks.cases.casework import CaseworkError, audit, get_case, recompute_clocks, record_event
from tasks.cases.registry import looks_like_email
from tasks.db import unit_of_work
from tasks.deadlines.calendar_source import working_calendar
from tasks.mail.layout import SERVICE_NAME
from tasks.mail.outbox import queue_email
from tasks.sessions.emails import MeetingText, attendee_lines, cancellation, invitation
from tasks.sessions.invites import Invitee, Meeting, build_ics, ics_attachment
from tasks.settings import get_settings
from tasks.timekeeping import local_tz

CANCELLED_BY = ("family", "la", "service", "icb")
ROLES = ("family", "supporter", "la", "icb", "mediator", "other")


class SessionError(InvalidInput):
    """A session request the rules or the data refuse; one line, no personal data beyond what was typed."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def parse_person(text: str, option: str = "--attendee") -> Person:
    """'NAME=EMAIL' -> Person; `SessionError` otherwise."""
    from models.domain.fields import text_problem

    name, sep, email = (text or "").rpartition("=")
    if not sep or not name.strip():
        raise SessionError(f"{option} needs NAME=EMAIL")
    problem = text_problem(name)
    if problem:
        raise SessionError(f"{option}: the name {problem}")
    if not looks_like_email(email):
        raise SessionError(f"{option}: the email address is not valid (use NAME=EMAIL)")
    return Person(name.strip(), email.strip().lower())


def check_place(venue: str | None, online_url: str | None, access_notes: str | None) -> None:
    """`SessionError` for a venue or access notes that are not acceptable text, or a meeting link
    that is not `https://` with a valid host."""
    from models.domain.fields import LINE_MAX, text_problem, url_problem

    for option, value, single in (("--venue", venue, True), ("--access-notes", access_notes, False)):
        problem = text_problem(value, limit=LINE_MAX if single else 4 * LINE_MAX, single_line=single)
        if problem:
            raise SessionError(f"{option} {problem}")
    if online_url:
        problem = url_problem(online_url)
        if problem:
            raise SessionError(f"--online link {problem}")


def check_times(start: datetime, end: datetime | None) -> None:
    """`SessionError` for a start or end outside the sane window (2000-01-01 to 2100-12-31)."""
    from models.domain.fields import date_problem

    for option, value in (("--start", start), ("--end", end)):
        problem = date_problem(value)
        if problem:
            raise SessionError(f"{option} {value.isoformat()} {problem}")


@dataclass(frozen=True)
class SessionResult:
    """What a command did (JSON-able via `as_dict`)."""

    session_id: int
    case_ref: str
    status: str
    sequence: int
    start: datetime
    end: datetime
    notice_by: date | None = None
    short_notice: bool = False
    emails_queued: int = 0
    without_email: tuple[str, ...] = ()  # roles of attendees who get no email
    notes: tuple[str, ...] = ()  # advice for the person booking (no personal data)

    def as_dict(self) -> dict:
        return {
            "session_id": self.session_id,
            "case_ref": self.case_ref,
            "status": self.status,
            "sequence": self.sequence,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "notice_by": self.notice_by.isoformat() if self.notice_by else None,
            "short_notice": self.short_notice,
            "emails_queued": self.emails_queued,
            "without_email": list(self.without_email),
            "notes": list(self.notes),
        }


# --- shared helpers ----------------------------------------------------------------------------
def _local_today(now: datetime) -> date:
    return now.astimezone(local_tz()).date()


def _existing(db: Session, start: datetime, end: datetime) -> list[Booking]:
    rows = db.scalars(
        select(MediationSession).where(
            MediationSession.status == "scheduled", MediationSession.start_at < end, MediationSession.end_at > start
        )
    )
    return [Booking(r.mediator_id, r.start_at, r.end_at, r.venue, r.id) for r in rows]


def _check_slot(db: Session, candidate: Booking, now: datetime) -> None:
    try:
        check_booking(candidate, _existing(db, candidate.start, candidate.end), now, local_tz())
    except BookingError as exc:
        raise SessionError(str(exc)) from None


def _check_notice(start: datetime, now: datetime, short_notice_agreed: bool) -> tuple[date, bool]:
    """(notice_by, inside the notice period). Refused inside it unless the family agreed."""
    tz = local_tz()
    starts_on = start.astimezone(tz).date()
    rules = ruleset_for(starts_on)
    calendar = working_calendar()
    by = notice_by(starts_on, calendar, rules.notice_wd)
    short = inside_notice(starts_on, _local_today(now), calendar, rules.notice_wd)
    if short and not short_notice_agreed:
        raise SessionError(
            f"the meeting is inside the {rules.notice_wd}-working-day notice period (notice was due by "
            f"{by.isoformat()}); book it with --short-notice-agreed only if the family agreed to shorter notice"
        )
    return by, short


def _not_before(now: datetime) -> datetime | None:
    held = quiet_adjust(now, local_tz())
    return held if held != now.astimezone(held.tzinfo) else None


def meeting_texts(session: MediationSession, case: Case) -> tuple[Meeting, MeetingText]:
    meeting = Meeting(
        uid=session.uid,
        sequence=session.sequence,
        case_ref=case.ref,
        start=session.start_at,
        end=session.end_at,
        venue=session.venue,
        online_url=session.online_url,
        access_notes=session.access_notes,
    )
    text = MeetingText(
        case_ref=case.ref,
        start=session.start_at,
        end=session.end_at,
        venue=session.venue,
        online_url=session.online_url,
        access_notes=session.access_notes,
        mediator_name=session.mediator.name,
        tz=local_tz(),
    )
    return meeting, text


def session_ics(
    session: MediationSession, case: Case, attendee: SessionAttendee, now: datetime, method: str = "REQUEST"
) -> bytes:
    """The .ics for one attendee of `session` as it stands (used for invites and reminders)."""
    settings = get_settings()
    meeting, _ = meeting_texts(session, case)
    return build_ics(
        meeting,
        Invitee(attendee.name, attendee.email, attendee.role),
        organizer_email=settings.mail_from,
        organizer_name=SERVICE_NAME,
        tzid=settings.timezone,
        now=now,
        method=method,
    )


def _withdraw_unsent_reminders(db: Session, session: MediationSession) -> int:
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


def _queue_for_attendees(db: Session, session: MediationSession, case: Case, now: datetime, *, kind: str) -> int:
    """Queue one email per attendee with an address: 'session-invite', 'session-update' or 'session-cancel'."""
    _, text = meeting_texts(session, case)
    method = "CANCEL" if kind == "session-cancel" else "REQUEST"
    prefix = "cancel" if kind == "session-cancel" else "invite"
    not_before = _not_before(now)
    others = attendee_lines(session.attendees)
    queued = 0
    for a in session.attendees:
        if not a.email:
            continue
        if kind == "session-cancel":
            subject, body, html = cancellation(text, name=a.name)
        else:
            subject, body, html = invitation(
                text,
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


def _load(db: Session, session_id: int, *, for_update: bool = True) -> MediationSession:
    stmt = select(MediationSession).where(MediationSession.id == session_id)
    if for_update:
        stmt = stmt.with_for_update()
    session = db.scalar(stmt)
    if session is None:
        raise SessionError(f"unknown session {session_id}")
    return session


def _result(session: MediationSession, case: Case, **extra) -> SessionResult:
    return SessionResult(
        session_id=session.id,
        case_ref=case.ref,
        status=session.status,
        sequence=session.sequence,
        start=session.start_at,
        end=session.end_at,
        **extra,
    )


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
        mediator = (
            None
            if not looks_like_email(mediator_email)
            else db.scalar(
                select(Mediator).where(Mediator.email == (mediator_email or "").strip().lower()).with_for_update()
            )
        )
        if mediator is None or not mediator.active:
            raise SessionError(f"unknown mediator {mediator_email!r} (register one with drs mediator add)")
        _check_slot(db, Booking(mediator.id, start, end, venue), now)
        by, short = _check_notice(start, now, short_notice_agreed)
        people: list[SessionAttendee] = [
            SessionAttendee(
                role="family", name=case.requester_name, email=(case.requester_email or "").lower() or None
            ),
            SessionAttendee(role="mediator", name=mediator.name, email=mediator.email),
        ]
        extra = [("supporter", supporter), ("la", la_officer), ("icb", icb), *(("other", p) for p in attendees)]
        for role, person in extra:
            if person is not None:
                people.append(
                    SessionAttendee(
                        role=role,
                        name=person.name,
                        email=person.email,
                        authority_to_settle=authority_to_settle and role == "la",
                    )
                )
        seen: set[str] = set()
        unique = []
        for p in people:  # one invitation per address, the first role wins
            if p.email and p.email in seen:
                continue
            seen.add(p.email or f"none-{len(unique)}")
            unique.append(p)
        domain = get_settings().mail_from.rsplit("@", 1)[-1] or "drs-flows.local"
        session = MediationSession(
            case_id=case.id,
            mediator_id=mediator.id,
            uid=f"{uuid.uuid4()}@{domain}",
            sequence=0,
            start_at=start,
            end_at=end,
            venue=venue,
            online_url=online_url,
            access_notes=(access_notes or "").strip() or None,
            status="scheduled",
            short_notice_agreed=bool(short_notice_agreed and short),
            booked_at=now,
            updated_at=now,
        )
        session.mediator = mediator
        session.attendees = unique
        db.add(session)
        db.flush()
        queued = _queue_for_attendees(db, session, case, now, kind="session-invite")
        audit(
            db,
            actor,
            "session:scheduled",
            case.id,
            now,
            {"session_id": session.id, "sequence": 0, "short_notice": short},
        )
        recompute_clocks(db, case, _local_today(now), now)
        db.commit()
        notes = ()
        if case.health_issues and icb is None:
            notes = ("the case includes health care issues: invite the ICB representative with --icb",)
        return _result(
            session,
            case,
            notice_by=by,
            short_notice=short,
            emails_queued=queued,
            without_email=tuple(a.role for a in unique if not a.email),
            notes=notes,
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
        session = _load(db, session_id)
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}; only a scheduled meeting can be moved")
        place = {
            "venue": session.venue if venue is None else (venue.strip() or None),
            "online_url": session.online_url if online_url is None else (online_url.strip() or None),
            "access_notes": session.access_notes if access_notes is None else (access_notes.strip() or None),
        }
        if place["venue"] is None and place["online_url"] is None:
            raise SessionError("a meeting needs a venue or an online link")
        unchanged = all(getattr(session, k) == v for k, v in place.items())
        if session.start_at == start and session.end_at == end and unchanged:
            raise SessionError(f"session {session_id} already has that time and place")
        _check_slot(db, Booking(session.mediator_id, start, end, place["venue"], session.id), now)
        by, short = _check_notice(start, now, short_notice_agreed)
        case = db.get(Case, session.case_id)
        session.start_at, session.end_at = start, end
        session.venue, session.online_url, session.access_notes = (
            place["venue"],
            place["online_url"],
            place["access_notes"],
        )
        session.sequence += 1
        session.booked_at = now  # notice of the current date and place was given now
        session.short_notice_agreed = bool(short_notice_agreed and short)
        session.updated_at = now
        db.flush()
        withdrawn = _withdraw_unsent_reminders(db, session)
        queued = _queue_for_attendees(db, session, case, now, kind="session-update")
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
        recompute_clocks(db, case, _local_today(now), now)
        db.commit()
        return _result(session, case, notice_by=by, short_notice=short, emails_queued=queued)


def cancel_session(
    session_id: int, *, now: datetime, cancelled_by: str = "service", actor: str = "cli:session-cancel"
) -> SessionResult:
    """Cancel a scheduled meeting: METHOD:CANCEL (SEQUENCE + 1) to every attendee, no more
    reminders, and the case's `notice_by` clock follows the next meeting (or goes)."""
    if cancelled_by not in CANCELLED_BY:
        raise SessionError(f"--by must be one of: {', '.join(CANCELLED_BY)}")
    with unit_of_work() as db:
        session = _load(db, session_id)
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}; only a scheduled meeting can be cancelled")
        case = db.get(Case, session.case_id)
        session.status, session.cancelled_by, session.cancelled_at = "cancelled", cancelled_by, now
        session.sequence += 1
        session.updated_at = now
        db.flush()
        withdrawn = _withdraw_unsent_reminders(db, session)
        queued = _queue_for_attendees(db, session, case, now, kind="session-cancel")
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
        recompute_clocks(db, case, _local_today(now), now)
        db.commit()
        return _result(session, case, emails_queued=queued)


def record_outcome(
    session_id: int,
    *,
    result: str,
    on: date,
    now: datetime,
    items: Sequence[str] = (),
    actor: str = "cli:session-outcome",
) -> SessionResult:
    """Record how a meeting ended: the session is `held`; the case gets `mediation-concluded`
    on `on` (starting the after-mediation certificate clock) and, for an agreed or partial
    outcome with `items`, `agreement-reached` (the follow-up clocks). Raises `SessionError`."""
    if result not in OUTCOMES:
        raise SessionError(f"--result must be one of: {', '.join(OUTCOMES)}")
    items = tuple(items)
    bad = [i for i in items if i not in AGREEMENT_ITEMS]
    if bad:
        raise SessionError(f"unknown agreement item {bad[0]!r} (expected one of: {', '.join(AGREEMENT_ITEMS)})")
    if items and result == "not-agreed":
        raise SessionError("--item is only for an agreed or partial outcome")
    today = _local_today(now)
    with unit_of_work() as db:
        session = _load(db, session_id)
        if session.status == "held":
            raise SessionError(f"session {session_id} already has an outcome ({session.outcome})")
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}")
        if on < session.start_at.astimezone(local_tz()).date():
            raise SessionError(f"--on {on.isoformat()} is before the meeting")
        case = get_case(db, db.get(Case, session.case_id).ref, for_update=True)
        session.status, session.outcome, session.outcome_on, session.updated_at = "held", result, on, now
        db.flush()
        detail = {"session_id": session.id, "result": result}
        try:
            record_event(db, case, "mediation-concluded", on, now=now, today=today, recorded_by=actor, detail=detail)
            if items:
                record_event(
                    db,
                    case,
                    "agreement-reached",
                    on,
                    now=now,
                    today=today,
                    recorded_by=actor,
                    items=items,
                    detail=detail,
                )
        except CaseworkError as exc:
            raise SessionError(str(exc)) from None
        audit(db, actor, "session:outcome", case.id, now, detail)
        db.commit()
        return _result(session, case)

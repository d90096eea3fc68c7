"""Cases and their clocks in the database: find an LA, number a case, record events, recompute clocks.

Every function takes the open unit of work (`db`) and commits nothing: the caller commits the
change together with the emails it causes (the outbox rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case, CaseEvent, Clock, LocalAuthority, MediationSession, OutboxEmail
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts
from models.domain.rules import CURRENT_RULES_VERSION
from models.domain.vocabulary import AGREEMENT_ITEMS, CERTIFICATE_TYPES, EVENTS
from tasks.cases.clock_core import build_facts, planned_clocks
from tasks.deadlines.calendar_source import working_calendar


class CaseworkError(ValueError):
    """A request the data cannot satisfy (unknown case, bad event); the message names the problem."""


_LA_NOISE = re.compile(r"\b(metropolitan|borough|city|county|district|council|of|the|royal|mbc|cc)\b", re.IGNORECASE)


def _la_key(text: str) -> str:
    return " ".join(_LA_NOISE.sub(" ", text.replace("&", " and ")).lower().split())


def find_local_authority(db: Session, text: str) -> LocalAuthority | None:
    """The LA whose ONS code, name or alias matches `text` (case-insensitive; 'Manchester City
    Council' → Manchester). None when nothing or more than one matches."""
    wanted = (text or "").strip()
    if not wanted:
        return None
    las = db.scalars(select(LocalAuthority)).all()
    for la in las:
        if la.code.lower() == wanted.lower():
            return la
    key = _la_key(wanted)
    exact = [la for la in las if key in {_la_key(la.name), *(_la_key(a) for a in la.aliases or [])}]
    return exact[0] if len(exact) == 1 else None


def next_case_ref(db: Session, year: int) -> str:
    """The next free reference `DRS-YYYY-NNNNN` for `year` (unique constraint guards races).

    The number is at least five digits and grows past 99,999 (`DRS-2026-100000`): the highest
    number is taken as an integer, not as a string, which would sort `99999` after `100000`.
    """
    prefix = f"DRS-{year}-"
    number_part = cast(func.substr(Case.ref, len(prefix) + 1), Integer)
    last = db.scalar(select(func.max(number_part)).where(Case.ref.like(prefix + "%")))
    return f"{prefix}{(last or 0) + 1:05d}"


def get_case(db: Session, ref: str, *, for_update: bool = False) -> Case:
    """The case `ref`, or `CaseworkError` naming it."""
    from models.domain.fields import text_problem

    if text_problem(ref, limit=64):  # NUL or a control character: no such case (PostgreSQL would refuse the query)
        raise CaseworkError("unknown case (the reference is not a case reference)")
    stmt = select(Case).where(Case.ref == ref.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    case = db.scalar(stmt)
    if case is None:
        raise CaseworkError(f"unknown case {ref!r}")
    return case


def next_session_for(db: Session, case: Case) -> MediationSession | None:
    """The case's next scheduled (not cancelled, not held) mediation session, if any."""
    return db.scalar(
        select(MediationSession)
        .where(MediationSession.case_id == case.id, MediationSession.status == "scheduled")
        .order_by(MediationSession.start_at)
        .limit(1)
    )


def case_facts(db: Session, case: Case, tz) -> CaseFacts:
    """What the clock engine needs to know about `case` (`tz`: the service's local time zone)."""
    # what the service itself sent: the first acknowledgement, the latest request to the LA (one query)
    sent = {
        kind: (first, last)
        for kind, first, last in db.execute(
            select(OutboxEmail.kind, func.min(OutboxEmail.created_at), func.max(OutboxEmail.created_at))
            .where(OutboxEmail.case_id == case.id, OutboxEmail.kind.in_(("acknowledgement", "la-mediation-request")))
            .group_by(OutboxEmail.kind)
        )
    }
    acknowledged_at = sent.get("acknowledgement", (None, None))[0]
    la_informed_at = sent.get("la-mediation-request", (None, None))[1]
    return build_facts(case, case.events, next_session_for(db, case), acknowledged_at, la_informed_at, tz)


def recompute_clocks(
    db: Session, case: Case, today: date, now: datetime, calendar: WorkingCalendar | None = None
) -> None:
    """Recompute `case`'s clocks from its decision and events and persist them (upsert by name)."""
    from zoneinfo import ZoneInfo

    from tasks.settings import get_settings

    db.flush()
    db.refresh(case, ["events"])
    tz = ZoneInfo(get_settings().timezone)
    calendar = calendar or working_calendar()
    facts = case_facts(db, case, tz)
    overrides = case.local_authority.service_standards if case.local_authority else None
    planned, status = planned_clocks(facts, calendar, today, overrides)  # the core the batch path shares too
    existing = {c.name: c for c in case.clocks}
    for name, values in planned.items():
        row = existing.pop(name, None)
        if row is None:
            row = Clock(case_id=case.id, name=name)
            case.clocks.append(row)
        for column, value in values.items():
            setattr(row, column, value)
        row.computed_at = now
    for stale in existing.values():
        case.clocks.remove(stale)
    case.status = status
    case.rules_version = CURRENT_RULES_VERSION
    case.updated_at = now


def validate_event(event: str, cert_type: str | None = None, items: Sequence[str] = ()) -> None:
    """Raise `CaseworkError` naming what is wrong with an event and its options."""
    if event not in EVENTS:
        raise CaseworkError(f"unknown event {event!r} (expected one of: {', '.join(EVENTS)})")
    if event == "certificate-issued" and cert_type not in CERTIFICATE_TYPES:
        raise CaseworkError(f"certificate-issued needs --type, one of: {', '.join(CERTIFICATE_TYPES)}")
    if event != "certificate-issued" and cert_type:
        raise CaseworkError("--type is only for certificate-issued")
    if event in ("agreement-reached", "agreement-step-done"):
        if not items:
            raise CaseworkError(f"{event} needs --item, one of: {', '.join(AGREEMENT_ITEMS)}")
        bad = [i for i in items if i not in AGREEMENT_ITEMS]
        if bad:
            raise CaseworkError(f"unknown agreement item {bad[0]!r} (expected one of: {', '.join(AGREEMENT_ITEMS)})")
    elif items:
        raise CaseworkError("--item is only for agreement-reached and agreement-step-done")


#: the event that makes each type of certificate due
_CERTIFICATE_TRIGGERS = {
    "mediation-declined": "declined",
    "withdrawn": "withdrawn",
    "la-cannot-arrange": "deemed",
    "mediation-concluded": "after-mediation",
}


def infer_certificate_type(case: Case, on: date) -> str:
    """The type of a certificate issued on `on` when none is given: the latest trigger event on or
    before that day; with none recorded, `declined` (the family needs a certificate to appeal
    without mediating — the commonest case)."""
    triggers = sorted(
        ((e.on, e.id or 0), _CERTIFICATE_TRIGGERS[e.event])
        for e in case.events
        if e.event in _CERTIFICATE_TRIGGERS and e.on <= on
    )
    return triggers[-1][1] if triggers else "declined"


def record_event(
    db: Session,
    case: Case,
    event: str,
    on: date,
    *,
    now: datetime,
    today: date,
    recorded_by: str,
    note: str | None = None,
    health: bool = False,
    cert_type: str | None = None,
    items: Iterable[str] = (),
    detail: dict | None = None,
) -> CaseEvent:
    """Append an event to `case`, audit it and recompute the case's clocks. Commits nothing."""
    items = tuple(items)
    if event == "certificate-issued" and not cert_type:
        cert_type = infer_certificate_type(case, on)
    validate_event(event, cert_type, items)
    check_event_date(case, on, today)
    note = check_note(note)
    if event == "agreement-step-done":
        agreed = {i for e in case.events if e.event == "agreement-reached" and e.on <= on for i in (e.items or ())}
        missing = [i for i in items if i not in agreed]
        if missing:
            raise CaseworkError(f"no agreement on {missing[0]!r} was reached on or before {on.isoformat()}")
    row = CaseEvent(
        case_id=case.id,
        event=event,
        on=on,
        note=note,
        health=health,
        cert_type=cert_type,
        items=list(items),
        detail=detail,
        recorded_at=now,
        recorded_by=recorded_by,
    )
    db.add(row)
    audit(db, recorded_by, f"event:{event}", case.id, now, {"on": on.isoformat()})
    recompute_clocks(db, case, today, now)
    return row


def check_event_date(case: Case, on: date, today: date) -> None:
    """`CaseworkError` when an event date cannot be: outside the sane window, in the future, before
    the case's decision letter or before the referral was received."""
    from models.domain.fields import date_problem

    problem = date_problem(on)
    if problem:
        raise CaseworkError(f"event date {on.isoformat()} {problem}")
    if on > today:
        raise CaseworkError(f"event date {on.isoformat()} is in the future")
    letter = case.decision_letter_sent_on
    if letter is not None and on < letter:
        raise CaseworkError(
            f"event date {on.isoformat()} is before the decision letter of {case.ref} ({letter.isoformat()})"
        )
    if case.received_on is not None and on < case.received_on:
        raise CaseworkError(
            f"event date {on.isoformat()} is before {case.ref} was received ({case.received_on.isoformat()})"
        )


def check_note(note) -> str | None:
    """An event's note: text of at most NOTE_MAX characters, no NUL or control characters."""
    from models.domain.fields import NOTE_MAX, FieldError, clean_text

    try:
        return clean_text(note, "note", limit=NOTE_MAX, single_line=False)
    except FieldError as exc:
        raise CaseworkError(str(exc)) from None


def audit(db: Session, actor: str, action: str, case_id: int | None, now: datetime, detail: dict | None = None) -> None:
    """Write an audit-log line (references and codes only, never personal data). `now` is the
    effective time; the real time and the person acting are recorded beside it (tasks.privacy.audit_trail)."""
    from tasks.privacy.audit_trail import current_operator, wall_clock

    db.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            case_id=case_id,
            detail=detail,
            recorded_at=wall_clock(),
            operator=current_operator(),
        )
    )


def new_case(
    db: Session,
    *,
    la: LocalAuthority,
    service: str,
    received_on: date,
    now: datetime,
    today: date,
    recorded_by: str,
    **fields,
) -> Case:
    """Create a case with the next reference and its clocks (no events yet). Commits nothing.

    `fields` are `Case` columns (requester_*, child_*, decision_type, decision_letter_sent_on,
    sections, health_issues, social_care_issues, wants_mediation, consent_to_contact_la, notes, flags).
    """
    case = Case(
        ref=next_case_ref(db, received_on.year),
        service=service,
        status="new",
        la_id=la.id,
        received_on=received_on,
        created_at=now,
        updated_at=now,
        **fields,
    )
    case.local_authority = la
    db.add(case)
    db.flush()
    audit(db, recorded_by, "case:created", case.id, now, {"ref": case.ref})
    recompute_clocks(db, case, today, now)
    return case

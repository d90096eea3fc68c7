"""A case's clocks: what the clock engine (`models.domain.clocks`) needs to know about a case,
and recomputing and storing its clocks and status after every change. Commits nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, Clock, MediationSession, OutboxEmail
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Event, NextSession, compute_clocks
from models.domain.rules import CURRENT_RULES_VERSION
from models.domain.status import case_status
from tasks.deadlines.calendar_source import working_calendar


def next_session_for(db: Session, case: Case) -> MediationSession | None:
    """The case's next scheduled (not cancelled, not held) mediation session, if any."""
    return db.scalar(
        select(MediationSession)
        .where(MediationSession.case_id == case.id, MediationSession.status == "scheduled")
        .order_by(MediationSession.start_at)
        .limit(1)
    )


def case_facts(db: Session, case: Case, tz: Any) -> CaseFacts:
    """What the clock engine needs to know about `case` (`tz`: the service's local time zone)."""
    session = next_session_for(db, case)
    next_session = None
    if session is not None:
        next_session = NextSession(
            starts_on=session.start_at.astimezone(tz).date(),
            booked_on=session.booked_at.astimezone(tz).date(),
            short_notice_agreed=session.short_notice_agreed,
        )
    events = tuple(
        Event(name=e.event, on=e.on, health=e.health, cert_type=e.cert_type, items=tuple(e.items or ()))
        for e in sorted(case.events, key=lambda e: (e.on, e.id or 0))
    )
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
    return CaseFacts(
        acknowledged_on=acknowledged_at.astimezone(tz).date() if acknowledged_at else None,
        la_informed_on=la_informed_at.astimezone(tz).date() if la_informed_at else None,
        service=case.service,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        received_on=case.received_on,
        sections=tuple(case.sections or ()),
        health_issues=case.health_issues,
        events=events,
        next_session=next_session,
        appeal_lodged=case.appeal_lodged,
    )


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
    computed = compute_clocks(facts, calendar, today, overrides=overrides)
    store_clocks(case, computed, now)
    case.status = case_status((e.name for e in facts.events), session_scheduled=facts.next_session is not None)
    case.rules_version = CURRENT_RULES_VERSION
    case.updated_at = now


def store_clocks(case: Case, computed: dict, now: datetime) -> None:
    """Put `computed` clocks on `case` (upsert by name; clocks no longer computed are removed)."""
    existing = {c.name: c for c in case.clocks}
    for name, clock in computed.items():
        row = existing.pop(name, None)
        if row is None:
            row = Clock(case_id=case.id, name=name)
            case.clocks.append(row)
        row.due, row.target, row.state = clock.due, clock.target, clock.state
        row.owner, row.level, row.started_on = clock.owner, clock.level, clock.started_on
        row.met_on, row.source, row.note = clock.met_on, clock.source[:120], clock.note[:120]
        row.computed_at = now
    for stale in existing.values():
        case.clocks.remove(stale)

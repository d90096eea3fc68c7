"""A case's clocks: what the clock engine (`models.domain.clocks`) needs to know about a case,
and recomputing and storing its clocks and status after every change. Commits nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, Clock, MediationSession, OutboxEmail
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts
from models.domain.rules import CURRENT_RULES_VERSION
from tasks.cases.clock_core import build_facts, planned_clocks
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

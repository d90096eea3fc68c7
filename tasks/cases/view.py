"""The case as the contract shows it (`drs case show --json`, CONTRACT §Case)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.db import Case
from models.domain.clocks import clock_to_json, compute_clocks
from tasks.bounces.problems import case_contact_problems
from tasks.cases.casework import case_facts
from tasks.deadlines.calendar_source import working_calendar
from tasks.settings import get_settings


def case_document(db: Session, case: Case, today: date, *, redact: bool = False) -> dict:
    """The contract's JSON for `case`, clocks computed for `today`. `redact` leaves out personal data."""
    tz = ZoneInfo(get_settings().timezone)
    facts = case_facts(db, case, tz)
    overrides = case.local_authority.service_standards
    clocks = compute_clocks(facts, working_calendar(), today, overrides=overrides)
    events = []
    for e in sorted(case.events, key=lambda e: (e.on, e.id)):
        item: dict[str, Any] = {"event": e.event, "on": e.on.isoformat()}
        if e.cert_type:
            item["type"] = e.cert_type
        if e.items:
            item["items"] = list(e.items)
        if e.health:
            item["health"] = True
        if e.note and not redact:
            item["note"] = e.note
        events.append(item)
    doc = {
        "ref": case.ref,
        "service": case.service,
        "status": case.status,
        "local_authority": case.local_authority.code,
        "decision": {
            "type": case.decision_type,
            "letter_sent_on": case.decision_letter_sent_on.isoformat() if case.decision_letter_sent_on else None,
        },
        "sections": list(case.sections or []),
        "health_issues": case.health_issues,
        "social_care_issues": case.social_care_issues,
        "received_on": case.received_on.isoformat(),
        "flags": list(case.flags or []),
        "events": events,
        "clocks": {
            name: clock_to_json(clock) for name, clock in sorted(clocks.items(), key=lambda kv: (kv[1].due, kv[0]))
        },
        "contact_problems": case_contact_problems(db, case.id, redact=redact),  # issue 15
    }
    from tasks.privacy.legal_hold import hold_json  # issue 17: additive

    doc["legal_hold"] = hold_json(case)
    if not redact:
        doc["requester"] = {
            "role": case.requester_role,
            "name": case.requester_name,
            "email": case.requester_email,
            "phone": case.requester_phone,
            "postcode": case.requester_postcode,
        }
        doc["child"] = {
            "name": case.child_name,
            "date_of_birth": case.child_date_of_birth.isoformat() if case.child_date_of_birth else None,
        }
        doc["wants_mediation"] = case.wants_mediation
        doc["consent_to_contact_la"] = case.consent_to_contact_la
    return doc

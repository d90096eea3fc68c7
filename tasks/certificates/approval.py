"""Certificates an LA wants approved first: held (`awaiting_approval`) until an admin approves them in
the dashboard (the deadline monitor then issues them) or refuses them (never asked about again).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from models.db import Case, Certificate
from tasks.cases.casework import audit
from tasks.certificates.issue import find_row, next_number


def hold_for_approval(db: Session, case: Case, cert_type: str, trigger_on: date, now: datetime) -> Certificate:
    """Record that this certificate waits for an admin's approval (idempotent); returns the row."""
    row = find_row(db, case.id, cert_type, trigger_on)
    if row is None:
        row = Certificate(
            number=next_number(db, trigger_on.year),
            case_id=case.id,
            type=cert_type,
            trigger_on=trigger_on,
            issued_on=trigger_on,
            status="awaiting_approval",
            created_at=now,
        )
        db.add(row)
        db.flush()
        audit(
            db,
            "flow:deadline-monitor",
            "certificate:awaiting-approval",
            case.id,
            now,
            {"number": row.number, "type": cert_type, "trigger_on": trigger_on.isoformat()},
        )
    return row


def refuse(
    db: Session, case: Case, cert_type: str, trigger_on: date, now: datetime, note: str, actor: str
) -> Certificate:
    """Record an admin's refusal of an automatic certificate (the monitor will not ask again)."""
    row = hold_for_approval(db, case, cert_type, trigger_on, now)
    row.status, row.approval_note = "refused", note[:500]
    audit(db, actor, "certificate:refused", case.id, now, {"number": row.number, "type": cert_type})
    return row

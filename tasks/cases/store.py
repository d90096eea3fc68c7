"""The case rows' primitives every capability uses: the casework error, finding a case by its
reference, and the audit line written with every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case
from models.errors import InvalidInput


class CaseworkError(InvalidInput):
    """A request the data cannot satisfy (unknown case, bad event); the message names the problem."""


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

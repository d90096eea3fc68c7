"""Legal hold: a case under a complaint, a tribunal appeal or a court order is kept whole.

While a case is on hold, retention does not anonymise it, erasure on request is refused, and the
file clean-up keeps its files. Placing and releasing a hold are audited (`case:hold`,
`case:release`, with the reason — which must name no person: it is part of the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.db import Case
from tasks.cases.store import CaseworkError, audit, get_case
from tasks.db import unit_of_work
from tasks.privacy.audit_trail import current_operator


@dataclass(frozen=True)
class HoldState:
    """A case's legal hold after a change: its reference and the hold (`hold_json`), or None."""

    ref: str
    legal_hold: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "legal_hold": self.legal_hold}


def hold_case(ref: str, reason: str, now: datetime, *, actor: str = "cli:case-hold") -> HoldState:
    """`drs case hold`: put case `ref` on legal hold in a transaction of its own (`CaseworkError`
    with the reason when it cannot be)."""
    with unit_of_work() as db:
        state = place_hold(db, ref, reason, now, actor=actor)
        db.commit()
    return HoldState(**state)


def release_case(ref: str, now: datetime, *, actor: str = "cli:case-release") -> HoldState:
    """`drs case release`: take case `ref` off legal hold in a transaction of its own."""
    with unit_of_work() as db:
        state = release_hold(db, ref, now, actor=actor)
        db.commit()
    return HoldState(**state)


def hold_json(case: Case) -> dict[str, Any] | None:
    """`{"reason", "since", "by"}` of the case's hold, or None."""
    if not case.legal_hold_reason:
        return None
    return {
        "reason": case.legal_hold_reason,
        "since": case.legal_hold_since.isoformat() if case.legal_hold_since else None,
        "by": case.legal_hold_by,
    }


def place_hold(db: Session, ref: str, reason: str, now: datetime, *, actor: str = "cli:case-hold") -> dict[str, Any]:
    """Put case `ref` on legal hold (a new reason replaces the old one). Commits nothing."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CaseworkError("--reason is required: say why the case is on hold (e.g. tribunal appeal)")
    case = get_case(db, ref, for_update=True)
    if case.anonymised_at is not None:
        raise CaseworkError(
            f"{case.ref} was anonymised on {case.anonymised_at.date().isoformat()}: nothing left to hold"
        )
    case.legal_hold_reason = reason[:1000]
    case.legal_hold_since = now
    case.legal_hold_by = current_operator()
    audit(db, actor, "case:hold", case.id, now, {"ref": case.ref, "reason": case.legal_hold_reason})
    return {"ref": case.ref, "legal_hold": hold_json(case)}


def release_hold(db: Session, ref: str, now: datetime, *, actor: str = "cli:case-release") -> dict[str, Any]:
    """Take case `ref` off legal hold. Commits nothing."""
    case = get_case(db, ref, for_update=True)
    if not case.legal_hold_reason:
        raise CaseworkError(f"{case.ref} is not on legal hold")
    audit(db, actor, "case:release", case.id, now, {"ref": case.ref, "was": case.legal_hold_reason})
    case.legal_hold_reason = case.legal_hold_since = case.legal_hold_by = None
    return {"ref": case.ref, "legal_hold": None}

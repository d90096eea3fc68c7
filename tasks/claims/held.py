"""Claims waiting on someone: `pending` claims checked again, `held` claims listed for an admin and
decided (approve: the next batch takes it; refuse: the family is told why).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from models.db import Case, ExpenseClaim, MediationSession
from models.errors import InvalidInput
from tasks.cases.casework import audit
from tasks.claims.checking import check_stored_claim, session_that_took_place
from tasks.claims.family import tell_family
from tasks.db import unit_of_work


class ClaimError(InvalidInput):
    """A request about a claim that cannot be met (unknown claim, not held); names the claim id."""


def recheck_pending(today: date, now: datetime) -> dict[str, int]:
    """Check every claim still `pending` (e.g. created by another system or the demo data)."""
    counts = {"approved": 0, "query": 0, "held": 0, "rejected": 0}
    with unit_of_work() as db:
        ids = db.scalars(
            select(ExpenseClaim.id).where(ExpenseClaim.status == "pending").order_by(ExpenseClaim.id)
        ).all()
    for claim_pk in ids:
        with unit_of_work() as db:
            claim = db.get(ExpenseClaim, claim_pk)
            if claim is None or claim.status != "pending":
                continue
            case = db.get_one(Case, claim.case_id)
            session = (
                db.get(MediationSession, claim.session_id)
                if claim.session_id
                else session_that_took_place(db, case, claim.session_date, now)
            )
            decision = check_stored_claim(db, claim, case, today, now, session, claim.amount_pence or None)
            db.commit()
            counts[decision.status] += 1
    return counts


def held_claims() -> list[dict[str, Any]]:
    """Claims waiting for an admin: claim id, case reference and reason (no personal data)."""
    with unit_of_work() as db:
        rows = db.execute(
            select(ExpenseClaim.claim_id, Case.ref, ExpenseClaim.reason, ExpenseClaim.amount_pence)
            .join(Case, Case.id == ExpenseClaim.case_id)
            .where(ExpenseClaim.status == "held")
            .order_by(ExpenseClaim.id)
        ).all()
    return [
        {"claim_id": c, "case_ref": ref, "reason": reason, "amount_pence": amount} for c, ref, reason, amount in rows
    ]


def decide_held_claim(
    claim_id: str,
    approve: bool | str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    decided_by: str = "admin",
    *,
    decision: str | None = None,
) -> dict[str, Any]:
    """An admin's decision on a `held` claim: approve (it joins the next batch) or refuse (the
    family is told why, in the admin's words). Returns {"claim_id", "case_ref", "status"}.

    `approve` is a bool, or the words "approve"/"refuse" (`decision=` is accepted as another name
    for it). A refusal needs a reason. Raises `ClaimError` for an unknown claim, one that is not
    held, or a missing decision or reason. `now` is the decision time (aware).
    """
    choice = decision if approve is None else approve
    if isinstance(choice, str):
        if choice.strip().lower() not in ("approve", "refuse"):
            raise ClaimError("the decision must be approve or refuse")
        choice = choice.strip().lower() == "approve"
    if choice is None:
        raise ClaimError("the decision must be approve or refuse")
    approve = bool(choice)
    reason = (reason or "").strip() or ("approved by an admin" if approve else "")
    if not reason:
        raise ClaimError("a refusal needs a reason")
    if now is None:
        raise ClaimError("the decision needs its time")
    with unit_of_work() as db:
        stmt = select(ExpenseClaim).where(ExpenseClaim.claim_id == claim_id)
        if db.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        claim = db.scalar(stmt)
        if claim is None:
            raise ClaimError(f"unknown claim {claim_id!r}")
        if claim.status != "held":
            raise ClaimError(f"claim {claim_id!r} is {claim.status}, not held")
        case = db.get_one(Case, claim.case_id)
        claim.status = "approved" if approve else "rejected"
        claim.reason = f"{'approved' if approve else 'refused'} by {decided_by}: {reason.strip()}"[:2000]
        claim.decided_by = decided_by[:64]
        claim.updated_at = now
        if not approve:
            tell_family(db, claim, case, "refused", [reason.strip()], now)
        audit(db, decided_by[:64], f"claim:{'approve' if approve else 'refuse'}", case.id, now, {"claim_id": claim_id})
        db.commit()
        return {"claim_id": claim_id, "case_ref": case.ref, "status": claim.status}

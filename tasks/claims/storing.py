"""One claim record into the database, in its own transaction: parsed, matched to its case and
to the meeting that took place, stored (new, or an edit of a claim still `pending`/`query`),
checked and the family told — the claim and its email commit together.

`import_record(raw, source, today, now)` returns the record's result line (references only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, MediationSession
from tasks.claims.checking import check_stored_claim, claimant_key, session_that_took_place
from tasks.claims.files import text
from tasks.claims.records import ClaimInput, parse_claim
from tasks.db import unit_of_work

#: statuses in which a claim given again with changed details is updated and checked again
EDITABLE = ("pending", "query")


def result_line(
    source: str,
    claim_id: str | None,
    status: str,
    case_ref: str | None,
    *,
    errors: list[str] | None = None,
    new: bool = False,
    amount_pence: int | None = None,
    reasons: list[str] | None = None,
) -> dict[str, Any]:
    """One record's result: every line carries the same keys, whatever its status."""
    return {
        "source": source,
        "claim_id": claim_id,
        "status": status,
        "case_ref": case_ref,
        "new": new,
        "amount_pence": amount_pence,
        "reasons": reasons or [],
        "errors": errors or [],
    }


def import_record(raw: dict[str, Any], source: str, today: date, now: datetime) -> dict[str, Any]:
    """Import one record in its own transaction; returns its result line (references only)."""
    parsed, errors = parse_claim(raw)
    if parsed is None:
        return result_line(source, text(raw.get("claim_id")), "invalid", text(raw.get("case_ref")), errors=errors)
    with unit_of_work() as db:
        case = db.scalar(select(Case).where(Case.ref == parsed.case_ref))
        if case is None:
            return result_line(
                source, parsed.claim_id, "invalid", parsed.case_ref, errors=[f"unknown case {parsed.case_ref}"]
            )
        existing = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == parsed.claim_id))
        if existing is not None:
            unchanged = _not_stored(db, existing, case, parsed, source)
            if unchanged is not None:
                return unchanged
        session = session_that_took_place(db, case, parsed.session_date, now)
        claim = _stored(db, existing, case, parsed, session, now)
        decision = check_stored_claim(db, claim, case, today, now, session, parsed.amount_pence)
        try:
            db.commit()
        except IntegrityError:  # the same claim_id imported at the same moment elsewhere
            db.rollback()
            return result_line(source, parsed.claim_id, "duplicate", case.ref)
        return result_line(
            source,
            parsed.claim_id,
            decision.status,
            case.ref,
            new=existing is None,
            amount_pence=decision.amount_pence,
            reasons=list(decision.codes),
        )


def _not_stored(
    db: Session, existing: ExpenseClaim, case: Case, parsed: ClaimInput, source: str
) -> dict[str, Any] | None:
    """The result line when a claim with this id is on record and stays as it is: another case's or
    another claimant's (invalid), or no longer editable or given again unchanged (duplicate)."""
    if existing.case_id != case.id or _other_claimant(existing, parsed):
        other = db.scalar(select(Case.ref).where(Case.id == existing.case_id))
        whom = "case" if existing.case_id != case.id else "claimant"
        return result_line(
            source,
            parsed.claim_id,
            "invalid",
            case.ref,
            errors=[f"claim {parsed.claim_id} was already imported for another {whom}: see {other}"],
        )
    if existing.status not in EDITABLE or _same(existing, parsed):
        return result_line(source, parsed.claim_id, "duplicate", case.ref)
    return None


def _stored(
    db: Session,
    existing: ExpenseClaim | None,
    case: Case,
    parsed: ClaimInput,
    session: MediationSession | None,
    now: datetime,
) -> ExpenseClaim:
    """The claim row with the record's details (a new row, or the editable one on record), flushed."""
    claim = existing or ExpenseClaim(claim_id=parsed.claim_id, case_id=case.id, imported_at=now, status="pending")
    claim.session_id = session.id if session else None
    claim.session_date, claim.category = parsed.session_date, parsed.category
    claim.claimant_name, claim.claimant_email = parsed.claimant_name, parsed.claimant_email
    claim.miles, claim.receipt, claim.description = parsed.miles, parsed.receipt, parsed.description
    claim.amount_pence = parsed.amount_pence or 0
    claim.updated_at = now
    if existing is None:
        db.add(claim)
    db.flush()
    return claim


def _other_claimant(claim: ExpenseClaim, parsed: ClaimInput) -> bool:
    """The stored claim and the record name different claimants (by email when both give one, else by name)."""
    if claim.claimant_email and parsed.claimant_email:
        return claim.claimant_email.strip().lower() != parsed.claimant_email.strip().lower()
    if claim.claimant_name and parsed.claimant_name and not (claim.claimant_email or parsed.claimant_email):
        return claimant_key(claim.claimant_name, None) != claimant_key(parsed.claimant_name, None)
    return False


def _same(claim: ExpenseClaim, parsed: ClaimInput) -> bool:
    return (
        claim.session_date,
        claim.category,
        claim.claimant_email,
        claim.claimant_name,
        claim.miles,
        claim.receipt,
        claim.description,
    ) == (
        parsed.session_date,
        parsed.category,
        parsed.claimant_email,
        parsed.claimant_name,
        parsed.miles,
        parsed.receipt,
        parsed.description,
    ) and (parsed.amount_pence is None or parsed.amount_pence == claim.amount_pence or claim.category == "mileage")

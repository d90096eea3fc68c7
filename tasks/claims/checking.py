"""Checking a stored claim against its LA's policy: the policy rows, the meeting that took place,
whether the claimant is a party, the claims already on record; then the decision is recorded and
the family told (`check_stored_claim`). The rules themselves are pure (`models.domain.expenses`).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, LaPolicy, MediationSession, SessionAttendee
from models.domain.expenses import (
    BUILT_IN_LIMITS,
    REJECTED,
    ClaimLine,
    Decision,
    Policy,
    PriorClaim,
    Reason,
    check_claim,
)
from tasks.cases.casework import audit
from tasks.claims.family import tell_family
from tasks.mail.layout import long_date
from tasks.settings import get_settings

ACTOR = "expense-claims"


def claimant_key(name: str | None, email: str | None) -> str:
    return (email or "").strip().lower() or " ".join((name or "").lower().split())


def policies_of(db: Session, la_id: int) -> list[Policy]:
    rows = db.scalars(select(LaPolicy).where(LaPolicy.la_id == la_id)).all()
    return [policy_from_row(p) for p in rows]


def policy_from_row(p: LaPolicy) -> Policy:
    """The pure `Policy` of an `LaPolicy` row; a sanity limit the register leaves empty is the built-in one."""
    built_in = BUILT_IN_LIMITS
    return Policy(
        effective_from=p.effective_from,
        mileage_rate_pence=p.mileage_rate_pence,
        receipt_threshold_pence=p.receipt_threshold_pence,
        claim_window_days=p.claim_window_days,
        categories=tuple(p.categories or ()),
        per_claim_cap_pence=p.per_claim_cap_pence,
        category_caps_pence={k: int(v) for k, v in (p.category_caps_pence or {}).items()},
        max_miles=built_in.max_miles if p.max_miles is None else p.max_miles,
        max_item_pence=built_in.max_item_pence if p.max_item_pence is None else p.max_item_pence,
        max_meeting_pence=built_in.max_meeting_pence if p.max_meeting_pence is None else p.max_meeting_pence,
        remittance_days=built_in.remittance_days if p.remittance_days is None else p.remittance_days,
    )


def session_that_took_place(db: Session, case: Case, on: date, now: datetime) -> MediationSession | None:
    """The case's session on local date `on` that took place (held, or scheduled and begun)."""
    tz = ZoneInfo(get_settings().timezone)
    for s in db.scalars(
        select(MediationSession).where(MediationSession.case_id == case.id, MediationSession.status != "cancelled")
    ):
        if s.start_at.astimezone(tz).date() == on and (s.status == "held" or s.start_at <= now):
            return s
    return None


def claimant_is_party(db: Session, case: Case, name: str | None, email: str | None) -> bool:
    """True when the claimant is the case's requester or a supporter recorded on its sessions
    (by email; by name only when the claim gives no email)."""
    supporters = db.scalars(
        select(SessionAttendee)
        .join(MediationSession)
        .where(MediationSession.case_id == case.id, SessionAttendee.role == "supporter")
    ).all()
    if email:
        known = {claimant_key(None, case.requester_email)} | {claimant_key(None, s.email) for s in supporters}
        return claimant_key(None, email) in known - {""}
    known = {claimant_key(case.requester_name, None)} | {claimant_key(s.name, None) for s in supporters}
    return claimant_key(name, None) in known - {""}


def _prior(db: Session, claim: ExpenseClaim) -> list[PriorClaim]:
    rows = db.scalars(
        select(ExpenseClaim).where(
            ExpenseClaim.session_date == claim.session_date,
            ExpenseClaim.id != claim.id,
            or_(
                ExpenseClaim.case_id == claim.case_id,
                func.lower(ExpenseClaim.claimant_email) == (claim.claimant_email or "").lower(),
            ),
        )
    ).all()
    mine = claimant_key(claim.claimant_name, claim.claimant_email)
    return [
        PriorClaim(
            claim_id=r.claim_id,
            claimant=mine if same_claimant(claim, r) else claimant_key(r.claimant_name, r.claimant_email),
            session_date=r.session_date,
            category=r.category,
            amount_pence=r.amount_pence,
            status=r.status,
        )
        for r in rows
    ]


def same_claimant(a: ExpenseClaim, b: ExpenseClaim) -> bool:
    """The same person: the same email; or, when either claim gives no email, the same name
    (so a claim by name only still meets the same person's claim by email)."""
    if a.claimant_email and b.claimant_email:
        return a.claimant_email.strip().lower() == b.claimant_email.strip().lower()
    names = [" ".join((n or "").lower().split()) for n in (a.claimant_name, b.claimant_name)]
    return bool(names[0]) and names[0] == names[1]


def check_stored_claim(
    db: Session,
    claim: ExpenseClaim,
    case: Case,
    today: date,
    now: datetime,
    session: MediationSession | None,
    asked_pence: int | None,
) -> Decision:
    """Run the policy check on a stored claim, record the decision and queue the family's email."""
    line = ClaimLine(
        claim_id=claim.claim_id,
        category=claim.category,
        session_date=claim.session_date,
        claimant=claimant_key(claim.claimant_name, claim.claimant_email),
        miles=claim.miles,
        amount_pence=asked_pence,
        receipt=claim.receipt,
    )
    decision = check_claim(
        line,
        policies_of(db, case.la_id),
        claim.session_date,
        today,
        service=case.service,
        claimant_is_party=claimant_is_party(db, case, claim.claimant_name, claim.claimant_email),
        prior=_prior(db, claim),
    )
    if session is None and decision.status != "rejected":
        decision = Decision(
            status="rejected",
            amount_pence=decision.amount_pence,
            rate_pence=decision.rate_pence,
            reasons=decision.reasons + (_no_session_reason(claim.session_date),),
        )
    claim.status = decision.status
    claim.amount_pence = decision.amount_pence
    claim.rate_pence = decision.rate_pence
    claim.reason = decision.finance_text or None
    claim.decided_by = ACTOR
    claim.updated_at = now
    if decision.status in ("query", "rejected"):
        tell_family(
            db,
            claim,
            case,
            decision.status,
            decision.family_text,
            now,
            key_suffix=f"{decision.amount_pence}:" + ",".join(decision.codes),
        )
    audit(
        db, ACTOR, f"claim:{decision.status}", case.id, now, {"claim_id": claim.claim_id, "codes": list(decision.codes)}
    )
    return decision


def _no_session_reason(on: date):

    return Reason(
        code="no-session",
        status=REJECTED,
        family=(
            f"We have no record of a mediation meeting for your case on {long_date(on)}. Expenses can "
            "only be claimed for a meeting that took place. If the date is wrong, please send the claim "
            "again with the right date."
        ),
        finance=f"no mediation session took place on {on.isoformat()}",
    )

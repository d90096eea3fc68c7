"""Remittances back from an LA (CSV or XLSX: `claim_id, paid_on`): each `sent` claim becomes `paid`
and the family is told. A `paid_on` date that cannot be right (in the future, before the claim was
sent, too long after) is reported and the claim stays `sent`. Summaries carry references only.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.db import Case, ClaimBatch, ExpenseClaim
from models.domain.expenses import BUILT_IN_LIMITS, policy_on, pounds, remittance_problem
from tasks.cases.casework import audit
from tasks.claims.checking import policies_of
from tasks.claims.family import tell_family
from tasks.claims.files import as_date, read_rows, text
from tasks.db import unit_of_work
from tasks.mail.layout import long_date
from tasks.settings import get_settings


def import_remittance(path: str | Path, now: datetime) -> dict[str, Any]:
    """Mark claims paid from an LA remittance file (`claim_id, paid_on`); tells each family once.

    Returns {"paid": n, "already_paid": n, "errors": [{"claim_id", "error"}]}. Raises
    `ClaimFileError` when the file cannot be read at all.
    """
    rows = read_rows(Path(path))
    summary: dict[str, Any] = {"paid": 0, "already_paid": 0, "errors": []}
    for raw in rows:
        claim_id = text(raw.get("claim_id"))
        try:
            paid_on = as_date(raw.get("paid_on"))
        except ValueError as exc:
            summary["errors"].append({"claim_id": claim_id, "error": f"paid_on {exc}"})
            continue
        if not claim_id:
            summary["errors"].append({"claim_id": None, "error": "claim_id is missing"})
            continue
        with unit_of_work() as db:
            claim = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == claim_id))
            if claim is None:
                summary["errors"].append({"claim_id": claim_id, "error": "unknown claim"})
                continue
            if claim.status == "paid":
                summary["already_paid"] += 1
                continue
            if claim.status != "sent":
                summary["errors"].append({"claim_id": claim_id, "error": f"claim is {claim.status}, not sent"})
                continue
            case = db.get_one(Case, claim.case_id)
            problem = _remittance_problem(db, claim, case, paid_on, now)
            if problem:  # the claim stays sent; the team sees why the line was not applied
                summary["errors"].append({"claim_id": claim_id, "error": problem})
                continue
            claim.status, claim.paid_on, claim.updated_at = "paid", paid_on, now
            la_name = case.local_authority.name if case.local_authority else "Your local authority"
            tell_family(
                db,
                claim,
                case,
                "paid",
                [
                    f"{la_name} has told us that they paid your claim of {pounds(claim.amount_pence)} on "
                    f"{long_date(paid_on)}. It may take a few days to reach your account.",
                    "You do not need to do anything else.",
                ],
                now,
            )
            audit(db, "claims-paid", "claim:paid", case.id, now, {"claim_id": claim_id, "paid_on": paid_on.isoformat()})
            db.commit()
            summary["paid"] += 1
    return summary


def _remittance_problem(db, claim: ExpenseClaim, case: Case, paid_on: date, now: datetime) -> str | None:
    """Why `paid_on` cannot be right for this claim (models.domain.expenses.remittance_problem), or None."""

    tz = ZoneInfo(get_settings().timezone)
    batch = db.get(ClaimBatch, claim.batch_id) if claim.batch_id else None
    sent_on = batch.generated_at.astimezone(tz).date() if batch else claim.updated_at.astimezone(tz).date()
    policy = policy_on(policies_of(db, case.la_id), claim.session_date) or BUILT_IN_LIMITS
    return remittance_problem(paid_on, sent_on, now.astimezone(tz).date(), policy.remittance_days)

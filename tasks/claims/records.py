"""One claim record as read from a file, checked field by field into a `ClaimInput`.

`parse_claim(raw)` returns the claim, or the errors naming each bad field (the same words,
in the same order, the import reports). No database, no Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from models.domain.expenses import amount_problem, to_pence
from models.domain.fields import NAME_MAX, date_problem, identifier_problem, is_email, text_problem
from models.domain.vocabulary import CLAIM_CATEGORIES
from tasks.claims.files import as_bool, as_date, as_miles, text


@dataclass(frozen=True)
class ClaimInput:
    claim_id: str
    case_ref: str
    session_date: date
    claimant_name: str | None
    claimant_email: str | None
    category: str
    miles: Decimal | None
    amount_pence: int | None
    receipt: bool
    description: str | None


CLAIM_DESCRIPTION_MAX = 2_000


#: claim record fields and how long each may be (one line, except the description)
_CLAIM_TEXT = {
    "claim_id": (64, True),
    "case_ref": (64, True),
    "claimant_name": (NAME_MAX, True),
    "claimant_email": (254, True),
    "category": (64, True),
    "session_date": (64, True),
    "miles": (64, True),
    "amount": (64, True),
    "receipt": (16, True),
    "description": (CLAIM_DESCRIPTION_MAX, False),
}


def field_problems(raw: dict[str, Any]) -> list[str]:
    """Each claim field that is not acceptable text (models.domain.fields.text_problem)."""
    problems = []
    for name, (limit, single_line) in _CLAIM_TEXT.items():
        value = raw.get(name)
        if isinstance(value, (date, datetime, int, float, Decimal)) and not isinstance(value, bool):
            continue
        problem = text_problem(value, limit=limit, single_line=single_line)
        if problem:
            problems.append(f"{name} {problem}")
    return problems


def parse_claim(raw: dict[str, Any]) -> tuple[ClaimInput | None, list[str]]:
    """A validated claim from one record, or (None, errors naming each bad field)."""
    errors: list[str] = field_problems(raw)
    if errors:  # an object, a list, NUL or a control character where text is expected
        return None, errors
    claim_id = _claim_id(raw, errors)
    case_ref = (text(raw.get("case_ref")) or "").upper()
    if not case_ref:
        errors.append("case_ref is missing")
    session_date = _session_date(raw, errors)
    category = (text(raw.get("category")) or "").lower().replace(" ", "_").replace("-", "_")
    if category not in CLAIM_CATEGORIES:
        errors.append(f"category must be one of: {', '.join(CLAIM_CATEGORIES)}")
    miles = _miles(raw, errors)
    amount = _amount(raw, errors)
    receipt = _receipt(raw, errors)
    name, email = _claimant(raw, errors)
    if session_date is not None and date_problem(session_date):
        errors.append(f"session_date {date_problem(session_date)}")
    if errors or claim_id is None or session_date is None:
        return None, errors
    return ClaimInput(
        claim_id=claim_id,
        case_ref=case_ref,
        session_date=session_date,
        claimant_name=(name or "")[:200] or None,
        claimant_email=email.lower() if email else None,
        category=category,
        miles=miles,
        amount_pence=amount,
        receipt=receipt,
        description=text(raw.get("description")),
    ), []


def _claim_id(raw: dict[str, Any], errors: list[str]) -> str | None:
    claim_id = text(raw.get("claim_id"))
    if not claim_id:
        errors.append("claim_id is missing")
    elif len(claim_id) > 64:
        errors.append("claim_id is longer than 64 characters")
    elif identifier_problem(claim_id):
        errors.append(f"claim_id {identifier_problem(claim_id)}")
    return claim_id


def _session_date(raw: dict[str, Any], errors: list[str]) -> date | None:
    try:
        return as_date(raw.get("session_date"))
    except ValueError as exc:
        errors.append(f"session_date {exc}")
        return None


def _miles(raw: dict[str, Any], errors: list[str]) -> Decimal | None:
    try:
        return as_miles(raw.get("miles"))
    except ValueError as exc:
        errors.append(f"miles: {exc}")
        return None


def _amount(raw: dict[str, Any], errors: list[str]) -> int | None:
    """The amount asked, in pence (None when not given)."""
    raw_amount = text(raw.get("amount"))
    if raw_amount is None:
        return None
    problem = amount_problem(raw.get("amount"))
    if problem:
        errors.append(f"amount {problem}")
        return None
    try:
        amount = to_pence(raw_amount)
    except ValueError:
        amount = -1
    if amount < 0 or amount > 10_000_000:
        errors.append("amount is not an amount in pounds")
        return None
    return amount


def _receipt(raw: dict[str, Any], errors: list[str]) -> bool:
    try:
        return as_bool(raw.get("receipt"))
    except ValueError as exc:
        errors.append(f"receipt: {exc}")
        return False


def _claimant(raw: dict[str, Any], errors: list[str]) -> tuple[str | None, str | None]:
    name, email = text(raw.get("claimant_name")), text(raw.get("claimant_email"))
    if not name and not email:
        errors.append("claimant_name or claimant_email is needed")
    if email and not is_email(email):
        errors.append("claimant_email is not an email address")
    return name, email

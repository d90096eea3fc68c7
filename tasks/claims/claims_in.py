"""Expense claims in: import claim files, check each claim against its LA's policy, tell the family.

A claim belongs to a case and to a mediation session of that case that took place on the claim's
`session_date` (status `held`, or `scheduled` with its start already past; never `cancelled`).
The claimant must be the case's requester or a supporter recorded on the case's sessions
(`SessionAttendee.role == "supporter"`), matched by email (by name when no email is given).

Outcomes per record (`ImportSummary.results[].status`):
- `approved` / `query` / `held` / `rejected` — stored, decided by `models.domain.expenses.check_claim`;
  `query` and `rejected` email the family (outbox) in plain words; `held` waits for an admin
  (`decide_held_claim`, the flow's pause-for-input form, or `drs claims decide`).
- `duplicate` — the same `claim_id` again: nothing changes. A claim still in `query` (or
  `pending`) is re-checked when it comes back with changed details (e.g. receipt now `yes`).
- `invalid`  — the record cannot be stored (unknown case, bad date, …); `errors` say why.

Each record is its own transaction (the claim and its email commit together). No Prefect here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, LaPolicy, MediationSession, SessionAttendee
from models.domain.expenses import (
    CATEGORY_WORDS,
    ClaimLine,
    Decision,
    Policy,
    PriorClaim,
    amount_problem,
    check_claim,
    pounds,
    to_pence,
)
from models.domain.fields import NAME_MAX, date_problem, identifier_problem, is_email, text_problem
from models.domain.vocabulary import CLAIM_CATEGORIES
from models.errors import InvalidInput
from tasks.cases.casework import audit
from tasks.claims.files import SUFFIXES, as_bool, as_date, as_miles, text
from tasks.db import unit_of_work
from tasks.mail.layout import long_date, render_email
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings

ACTOR = "expense-claims"
EDITABLE = ("pending", "query")


class ClaimError(InvalidInput):
    """A request about a claim that cannot be met (unknown claim, not held); names the claim id."""


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


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    approved: int = 0
    query: int = 0
    held: int = 0
    rejected: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CLAIM_DESCRIPTION_MAX = 2_000


def parse_claim(raw: dict[str, Any]) -> tuple[ClaimInput | None, list[str]]:
    """A validated claim from one record, or (None, errors naming each bad field)."""
    errors: list[str] = field_problems(raw)
    if errors:  # an object, a list, NUL or a control character where text is expected
        return None, errors
    claim_id = text(raw.get("claim_id"))
    if not claim_id:
        errors.append("claim_id is missing")
    elif len(claim_id) > 64:
        errors.append("claim_id is longer than 64 characters")
    elif identifier_problem(claim_id):
        errors.append(f"claim_id {identifier_problem(claim_id)}")
    case_ref = (text(raw.get("case_ref")) or "").upper()
    if not case_ref:
        errors.append("case_ref is missing")
    session_date = None
    try:
        session_date = as_date(raw.get("session_date"))
    except ValueError as exc:
        errors.append(f"session_date {exc}")
    category = (text(raw.get("category")) or "").lower().replace(" ", "_").replace("-", "_")
    if category not in CLAIM_CATEGORIES:
        errors.append(f"category must be one of: {', '.join(CLAIM_CATEGORIES)}")
    miles = amount = None
    try:
        miles = as_miles(raw.get("miles"))
    except ValueError as exc:
        errors.append(f"miles: {exc}")
    raw_amount = text(raw.get("amount"))
    if raw_amount is not None and amount_problem(raw.get("amount")):
        errors.append(f"amount {amount_problem(raw.get('amount'))}")
    elif raw_amount is not None:
        try:
            amount = to_pence(raw_amount)
            if amount < 0 or amount > 10_000_000:
                raise ValueError
        except ValueError:
            errors.append("amount is not an amount in pounds")
    receipt = False
    try:
        receipt = as_bool(raw.get("receipt"))
    except ValueError as exc:
        errors.append(f"receipt: {exc}")
    name, email = text(raw.get("claimant_name")), text(raw.get("claimant_email"))
    if not name and not email:
        errors.append("claimant_name or claimant_email is needed")
    if email and not is_email(email):
        errors.append("claimant_email is not an email address")
    if session_date is not None and date_problem(session_date):
        errors.append(f"session_date {date_problem(session_date)}")
    if errors:
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


def _key(name: str | None, email: str | None) -> str:
    return (email or "").strip().lower() or " ".join((name or "").lower().split())


def _policies(db: Session, la_id: int) -> list[Policy]:
    rows = db.scalars(select(LaPolicy).where(LaPolicy.la_id == la_id)).all()
    return [policy_from_row(p) for p in rows]


def policy_from_row(p: LaPolicy) -> Policy:
    """The pure `Policy` of an `LaPolicy` row; a sanity limit the register leaves empty is the built-in one."""
    limits = {
        key: value
        for key, value in (
            ("max_miles", p.max_miles),
            ("max_item_pence", p.max_item_pence),
            ("max_meeting_pence", p.max_meeting_pence),
            ("remittance_days", p.remittance_days),
        )
        if value is not None
    }
    return Policy(
        effective_from=p.effective_from,
        mileage_rate_pence=p.mileage_rate_pence,
        receipt_threshold_pence=p.receipt_threshold_pence,
        claim_window_days=p.claim_window_days,
        categories=tuple(p.categories or ()),
        per_claim_cap_pence=p.per_claim_cap_pence,
        category_caps_pence={k: int(v) for k, v in (p.category_caps_pence or {}).items()},
        **limits,
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
        known = {_key(None, case.requester_email)} | {_key(None, s.email) for s in supporters}
        return _key(None, email) in known - {""}
    known = {_key(case.requester_name, None)} | {_key(s.name, None) for s in supporters}
    return _key(name, None) in known - {""}


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
    mine = _key(claim.claimant_name, claim.claimant_email)
    return [
        PriorClaim(
            claim_id=r.claim_id,
            claimant=mine if same_claimant(claim, r) else _key(r.claimant_name, r.claimant_email),
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
        claimant=_key(claim.claimant_name, claim.claimant_email),
        miles=claim.miles,
        amount_pence=asked_pence,
        receipt=claim.receipt,
    )
    decision = check_claim(
        line,
        _policies(db, case.la_id),
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
    from models.domain.expenses import REJECTED, Reason

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


FAMILY_HEADINGS = {
    "query": (
        "We need a little more information about your expense claim",
        "Expense claim for case {ref}: we need more information",
    ),
    "rejected": ("We cannot pass on your expense claim", "Expense claim for case {ref}: not accepted"),
    "refused": ("Your expense claim has not been approved", "Expense claim for case {ref}: not approved"),
    "sent": (
        "Your expense claim has been sent to your local authority",
        "Expense claim for case {ref}: sent to the local authority",
    ),
    "paid": ("Your expense claim has been paid", "Expense claim for case {ref}: paid"),
}


def tell_family(
    db: Session, claim: ExpenseClaim, case: Case, what: str, lines: list[str], now: datetime, *, key_suffix: str = ""
) -> None:
    """Queue the plain-words email about `claim` to the claimant (or the requester)."""
    to = claim.claimant_email or case.requester_email
    if not to:
        return
    heading, subject = FAMILY_HEADINGS[what]
    la_name = case.local_authority.name if case.local_authority else "your local authority"
    words = CATEGORY_WORDS.get(claim.category, claim.category)
    amount = f" ({pounds(claim.amount_pence)})" if claim.amount_pence else ""
    opening = (
        f"This is about your claim for {words}{amount} for the mediation meeting on "
        f"{long_date(claim.session_date)}. Your claim reference is {claim.claim_id}."
    )
    paragraphs: list = [opening]
    if what == "query":
        paragraphs += [lines, f"When we have this, we will check your claim again and send it to {la_name} to pay."]
    elif what in ("rejected", "refused"):
        paragraphs += [
            lines or ["It is outside what your local authority pays for."],
            "If you think this is wrong, please reply to this email and tell us why.",
        ]
    elif what == "sent":
        paragraphs += [
            f"We have checked your claim and sent it to {la_name}'s finance team, who will pay you. "
            "We will email you again when they tell us it has been paid."
        ]
    elif what == "paid":
        paragraphs += lines
    text_body, html = render_email(heading, paragraphs)
    queue_email(
        db,
        key=f"claim-{what}:{claim.claim_id}:{key_suffix}"[:200],
        kind=f"claim-{what}",
        to=to,
        subject=subject.format(ref=case.ref),
        text=text_body,
        html=html,
        now=now,
        case_id=case.id,
    )


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


def import_record(raw: dict[str, Any], source: str, today: date, now: datetime) -> dict[str, Any]:
    """Import one record in its own transaction; returns its result line (references only)."""
    parsed, errors = parse_claim(raw)
    claim_id = text(raw.get("claim_id"))
    if parsed is None:
        return {
            "source": source,
            "claim_id": claim_id,
            "status": "invalid",
            "case_ref": text(raw.get("case_ref")),
            "errors": errors,
        }
    with unit_of_work() as db:
        case = db.scalar(select(Case).where(Case.ref == parsed.case_ref))
        if case is None:
            return {
                "source": source,
                "claim_id": parsed.claim_id,
                "status": "invalid",
                "case_ref": parsed.case_ref,
                "errors": [f"unknown case {parsed.case_ref}"],
            }
        existing = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == parsed.claim_id))
        created = existing is None
        if existing is not None and (existing.case_id != case.id or _other_claimant(existing, parsed)):
            other = db.scalar(select(Case.ref).where(Case.id == existing.case_id))
            whom = "case" if existing.case_id != case.id else "claimant"
            return {
                "source": source,
                "claim_id": parsed.claim_id,
                "status": "invalid",
                "case_ref": case.ref,
                "errors": [f"claim {parsed.claim_id} was already imported for another {whom}: see {other}"],
            }
        if existing is not None:
            if existing.status not in EDITABLE or _same(existing, parsed):
                return {
                    "source": source,
                    "claim_id": parsed.claim_id,
                    "status": "duplicate",
                    "case_ref": case.ref,
                    "errors": [],
                }
        session = session_that_took_place(db, case, parsed.session_date, now)
        if existing is not None:
            claim = existing
        else:
            claim = ExpenseClaim(claim_id=parsed.claim_id, case_id=case.id, imported_at=now, status="pending")
        claim.session_id = session.id if session else None
        claim.session_date, claim.category = parsed.session_date, parsed.category
        claim.claimant_name, claim.claimant_email = parsed.claimant_name, parsed.claimant_email
        claim.miles, claim.receipt, claim.description = parsed.miles, parsed.receipt, parsed.description
        claim.amount_pence = parsed.amount_pence or 0
        claim.updated_at = now
        if existing is None:
            db.add(claim)
        db.flush()
        decision = check_stored_claim(db, claim, case, today, now, session, parsed.amount_pence)
        try:
            db.commit()
        except IntegrityError:  # the same claim_id imported at the same moment elsewhere
            db.rollback()
            return {
                "source": source,
                "claim_id": parsed.claim_id,
                "status": "duplicate",
                "case_ref": case.ref,
                "errors": [],
            }
        return {
            "source": source,
            "claim_id": parsed.claim_id,
            "status": decision.status,
            "case_ref": case.ref,
            "new": created,
            "amount_pence": decision.amount_pence,
            "reasons": list(decision.codes),
            "errors": [],
        }


def _other_claimant(claim: ExpenseClaim, parsed: ClaimInput) -> bool:
    """The stored claim and the record name different claimants (by email when both give one, else by name)."""
    if claim.claimant_email and parsed.claimant_email:
        return claim.claimant_email.strip().lower() != parsed.claimant_email.strip().lower()
    if claim.claimant_name and parsed.claimant_name and not (claim.claimant_email or parsed.claimant_email):
        return _key(claim.claimant_name, None) != _key(parsed.claimant_name, None)
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


def _result_line(result: dict[str, Any]) -> dict[str, Any]:
    """Every result line carries the same keys (`new`, `amount_pence`, `reasons` too when invalid/duplicate)."""
    return {
        "source": result["source"],
        "claim_id": result["claim_id"],
        "status": result["status"],
        "case_ref": result["case_ref"],
        "new": result.get("new", False),
        "amount_pence": result.get("amount_pence"),
        "reasons": result.get("reasons", []),
        "errors": result.get("errors", []),
    }


def claim_files(paths: list[Path]) -> list[Path]:
    """The claim files named: folders give their claim files (read where they are, never moved)."""
    out = []
    for path in paths:
        if path.is_dir():
            out += [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in SUFFIXES]
        else:
            out.append(path)
    return out


def _count(summary: ImportSummary, result: dict[str, Any]) -> None:
    summary.results.append(result)
    status = result["status"]
    if status == "invalid":
        summary.invalid += 1
    elif status == "duplicate":
        summary.duplicates += 1
    else:
        if result.get("new"):
            summary.imported += 1
        else:
            summary.updated += 1
        setattr(summary, status, getattr(summary, status) + 1)


def _import_one(raw: dict[str, Any], source: str, today: date, now: datetime) -> dict[str, Any]:
    """One record's result line; never raises (one bad record never stops the others)."""
    from tasks.intake.inbox import NOT_A_RECORD

    if NOT_A_RECORD in raw:
        return _result_line(
            {"source": source, "claim_id": None, "status": "invalid", "case_ref": None, "errors": [raw[NOT_A_RECORD]]}
        )
    try:
        return _result_line(import_record(raw, source, today, now))
    except Exception as exc:  # noqa: BLE001 — no personal data: the type only
        import logging

        logging.getLogger(__name__).error("a claim record could not be imported: %s", type(exc).__name__)
        return _result_line(
            {
                "source": source,
                "claim_id": text(raw.get("claim_id")) if isinstance(raw, dict) else None,
                "status": "invalid",
                "case_ref": None,
                "errors": ["could not be imported because of an internal error; give the file again"],
            }
        )


def _import_records(
    records: list[tuple[str, dict]], source: str, summary: ImportSummary, today: date, now: datetime
) -> list[dict[str, Any]]:
    """Import each record; returns the rows for the rejected-records report."""
    rejected = []
    for locator, raw in records:
        result = _import_one(raw, source, today, now)
        _count(summary, result)
        if result["status"] == "invalid":
            rejected.append({"record": locator, "claim_id": result["claim_id"], "errors": result["errors"]})
    return rejected


def _unreadable(summary: ImportSummary, source: str, reason: str) -> None:
    _count(
        summary,
        _result_line(
            {
                "source": source,
                "claim_id": None,
                "status": "invalid",
                "case_ref": None,
                "errors": [f"{source}: {reason}"],
            }
        ),
    )


def import_claims(paths: list[str | Path] | None, today: date, now: datetime) -> dict[str, Any]:
    """Import claim files (default: `$DRS_HOME/inbox/claims/`, taken and filed exactly like referral
    files — `tasks.intake.inbox` / `tasks.intake.inbox_run`: stable files only, links refused, each file in
    isolation, `processed/` and `rejected/` with `<name>.errors.json`, the team told once about a
    file that cannot be read). Named paths are read where they are and never moved.

    Returns the summary as a plain dict. A file that cannot be read is reported as one
    `invalid` result; it never stops the others.
    """
    from tasks.intake import inbox as inf
    from tasks.intake.inbox_run import process_claimed, unexpected

    summary = ImportSummary()
    inbox = get_settings().inbox_dir / "claims"

    def take(item: inf.ClaimedFile) -> None:
        done = process_claimed(
            item,
            inbox,
            schema=inf.CLAIMS,
            now=now,
            import_records=lambda records: _import_records(records, item.name, summary, today, now),
        )
        if done.status in ("unreadable", "refused"):
            _unreadable(summary, item.name, done.reason or "")

    def same(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve()
        except OSError:
            return False

    named = [Path(p) for p in paths or []]
    if not named or any(same(p, inbox) for p in named):  # the inbox: claimed and filed away
        for item in inf.claim_inbox(inbox).claimed:
            take(item)
    in_inbox = [p for p in named if not same(p, inbox) and same(p.parent, inbox)]
    for path in in_inbox:  # a file of the inbox named: claimed now (no stability wait)
        item = inf.claim_one(path, inbox)
        if item is not None:
            take(item)
    for path in claim_files([p for p in named if not same(p, inbox) and p not in in_inbox]):
        try:
            records = inf.read_records(path, path.name, schema=inf.CLAIMS, follow=True).records
        except inf.UnreadableFile as exc:
            _unreadable(summary, path.name, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 — whatever the parser raised, this file alone fails
            _unreadable(summary, path.name, unexpected(exc))
            continue
        _import_records(records, path.name, summary, today, now)
    return summary.as_dict()


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
            case = db.get(Case, claim.case_id)
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
        case = db.get(Case, claim.case_id)
        claim.status = "approved" if approve else "rejected"
        claim.reason = f"{'approved' if approve else 'refused'} by {decided_by}: {reason.strip()}"[:2000]
        claim.decided_by = decided_by[:64]
        claim.updated_at = now
        if not approve:
            tell_family(db, claim, case, "refused", [reason.strip()], now)
        audit(db, decided_by[:64], f"claim:{'approve' if approve else 'refuse'}", case.id, now, {"claim_id": claim_id})
        db.commit()
        return {"claim_id": claim_id, "case_ref": case.ref, "status": claim.status}

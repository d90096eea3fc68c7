"""Expense claims out (one batch workbook per LA, emailed to its finance team) and remittances back.

`route_claims(today, now)` — for each LA with `approved` claims not yet in a batch, in ONE
transaction per LA: record a `ClaimBatch`, render its workbook, queue the finance email with the
workbook attached (outbox key `claim-batch:<batch ref>`), move every claim in it to `sent` with the
batch id, and queue one "sent to your LA" email per claim to the family. The claims are taken with
a guarded UPDATE (`… WHERE status = 'approved' AND batch_id IS NULL`) whose row count must match:
if another run took any of them first the transaction rolls back, so a claim is never in two
batches (the exported-state guard) and a re-run finds nothing to send. The workbook is also
stored at `$DRS_HOME/reports/claims/<batch ref>.xlsx`. An LA with no finance address keeps its
claims `approved` and the team is told (once a day).

`import_remittance(path, now)` — an LA's remittance (CSV or XLSX: `claim_id, paid_on`): each
`sent` claim becomes `paid` and the family is told. Summaries carry references only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from models.db import Case, ClaimBatch, ExpenseClaim, LocalAuthority
from models.domain.expenses import CATEGORY_WORDS, pounds
from reports.claims_workbook import BatchHeader, BatchLine, render_batch_workbook
from tasks.cases.casework import audit
from tasks.claims.claims_in import FAMILY_HEADINGS, tell_family
from tasks.claims.files import ClaimFileError, as_date, read_rows, text
from tasks.db import unit_of_work
from tasks.mail.attachment import Attachment
from tasks.mail.layout import long_date, render_email
from tasks.mail.outbox import queue_email
from tasks.privacy.keys import address_token
from tasks.settings import get_settings

ACTOR = "expense-routing"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ClaimsChanged(RuntimeError):
    """Another run batched some of these claims first; this batch was rolled back (retry is safe)."""


def _batch_ref(db, la: LocalAuthority, today: date) -> str:
    prefix = f"EXP-{la.code}-{today:%Y%m%d}-"
    count = db.scalar(select(func.count(ClaimBatch.id)).where(ClaimBatch.batch_ref.like(prefix + "%"))) or 0
    return f"{prefix}{count + 1:02d}"


def las_with_claims_to_send() -> list[int]:
    with unit_of_work() as db:
        return list(
            db.scalars(
                select(Case.la_id)
                .join(ExpenseClaim, ExpenseClaim.case_id == Case.id)
                .where(ExpenseClaim.status == "approved", ExpenseClaim.batch_id.is_(None))
                .group_by(Case.la_id)
                .order_by(Case.la_id)
            ).all()
        )


def route_la(la_id: int, today: date, now: datetime) -> dict[str, Any] | None:
    """Batch one LA's approved, unsent claims (see the module docstring); None when none are left."""
    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    with unit_of_work() as db:
        la = db.get(LocalAuthority, la_id)
        claims = db.scalars(
            select(ExpenseClaim)
            .join(Case, Case.id == ExpenseClaim.case_id)
            .where(Case.la_id == la_id, ExpenseClaim.status == "approved", ExpenseClaim.batch_id.is_(None))
            .order_by(ExpenseClaim.session_date, ExpenseClaim.id)
        ).all()
        if not claims:
            return None
        if not la.finance_email:
            queue_email(
                db,
                key=f"claim-no-finance:{la.code}:{today.isoformat()}",
                kind="claim-no-finance",
                to=settings.team_email,
                now=now,
                subject=f"Expense claims for {la.name} cannot be sent: no finance address",
                text=(
                    f"{len(claims)} approved expense claim(s) for {la.name} ({la.code}) are waiting, but the "
                    "register has no finance email for this LA. Add it with `drs la import`; the next run "
                    "will send them.\n"
                ),
            )
            db.commit()
            return {
                "la": la.code,
                "batch_ref": None,
                "claims": len(claims),
                "total_pence": 0,
                "skipped": "no finance address",
            }
        cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_({c.case_id for c in claims})))}
        batch = ClaimBatch(
            batch_ref=_batch_ref(db, la, today),
            la_id=la.id,
            period_start=min(c.session_date for c in claims),
            period_end=max(c.session_date for c in claims),
            generated_at=now,
            claim_count=len(claims),
            total_pence=sum(c.amount_pence for c in claims),
        )
        db.add(batch)
        db.flush()
        taken = db.execute(
            update(ExpenseClaim)
            .where(
                ExpenseClaim.id.in_([c.id for c in claims]),
                ExpenseClaim.status == "approved",
                ExpenseClaim.batch_id.is_(None),
            )
            .values(status="sent", batch_id=batch.id, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != len(claims):
            db.rollback()
            raise ClaimsChanged(f"claims for {la.code} changed during routing; nothing was sent")
        lines = [
            BatchLine(
                claim_id=c.claim_id,
                case_ref=cases[c.case_id].ref,
                session_date=c.session_date,
                category=c.category,
                miles=c.miles,
                rate_pence=c.rate_pence,
                amount_pence=c.amount_pence,
                receipt=c.receipt,
                payee_name=c.claimant_name or cases[c.case_id].requester_name,
                payee_email=c.claimant_email or cases[c.case_id].requester_email,
            )
            for c in claims
        ]
        content = render_batch_workbook(
            BatchHeader(
                batch_ref=batch.batch_ref,
                la_name=la.name,
                period_start=batch.period_start,
                period_end=batch.period_end,
                generated_at=now.astimezone(tz).replace(microsecond=0),
            ),
            lines,
        )
        folder = settings.reports_dir / "claims"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{batch.batch_ref}.xlsx"
        batch.path = str(path)
        text_body, html = render_email(
            f"Expense claims batch {batch.batch_ref}",
            [
                f"Attached is batch {batch.batch_ref}: {len(claims)} expense claim(s) from families who attended "
                f"mediation, totalling {pounds(batch.total_pence)}, for meetings from {long_date(batch.period_start)} "
                f"to {long_date(batch.period_end)}.",
                "Each row gives the payee and the amount to pay. When you have paid them, please send us a remittance "
                "(a spreadsheet or CSV with the columns claim_id and paid_on) so we can tell the families.",
                "Every claim has been checked against your expense policy (rates, receipts, time limits and caps).",
            ],
            greeting=f"Dear {la.name} finance team,",
        )
        queue_email(
            db,
            key=f"claim-batch:{batch.batch_ref}",
            kind="claim-batch",
            to=la.finance_email,
            now=now,
            subject=f"Expense claims batch {batch.batch_ref} ({len(claims)} claim{'' if len(claims) == 1 else 's'}, {pounds(batch.total_pence)})",
            text=text_body,
            html=html,
            attachments=[Attachment(f"{batch.batch_ref}.xlsx", XLSX, content)],
        )
        for c in claims:
            c.status, c.batch_id = "sent", batch.id  # already so in the database; keeps the objects in step
        _tell_families_sent(db, claims, cases, la.name, batch.batch_ref, now)
        audit(
            db,
            ACTOR,
            "claims:batch",
            None,
            now,
            {"batch_ref": batch.batch_ref, "la": la.code, "claims": len(claims), "total_pence": batch.total_pence},
        )
        path.write_bytes(content)
        try:
            db.commit()
        except IntegrityError:  # a concurrent run used the same batch ref or took a claim
            path.unlink(missing_ok=True)
            raise ClaimsChanged(f"claims for {la.code} changed during routing; nothing was sent") from None
        return {
            "la": la.code,
            "batch_ref": batch.batch_ref,
            "claims": len(claims),
            "total_pence": batch.total_pence,
            "path": str(path),
        }


def _tell_families_sent(
    db, claims: list[ExpenseClaim], cases: dict[int, Case], la_name: str, batch_ref: str, now: datetime
) -> None:
    """One email per claimant in the batch, listing their claims sent to the LA."""
    groups: dict[tuple[int, str], list[ExpenseClaim]] = defaultdict(list)
    for c in claims:
        to = c.claimant_email or cases[c.case_id].requester_email
        if to:
            groups[(c.case_id, to.lower())].append(c)
    for (case_id, to), items in groups.items():
        case = cases[case_id]
        listed = [
            f"{CATEGORY_WORDS.get(c.category, c.category).capitalize()} for the meeting on "
            f"{long_date(c.session_date)}: {pounds(c.amount_pence)} (claim {c.claim_id})"
            for c in items
        ]
        text_body, html = render_email(
            FAMILY_HEADINGS["sent"][0],
            [
                f"We have checked your expense claim{'s' if len(items) > 1 else ''} and sent "
                f"{'them' if len(items) > 1 else 'it'} to {la_name}'s finance team, who will pay you:",
                listed,
                f"Total: {pounds(sum(c.amount_pence for c in items))}.",
                "We will email you again when they tell us it has been paid. You do not need to do anything now.",
            ],
        )
        queue_email(
            db,
            key=f"claim-sent:{batch_ref}:{case.ref}:{address_token(to)}",
            kind="claim-sent",
            to=to,
            subject=FAMILY_HEADINGS["sent"][1].format(ref=case.ref),
            text=text_body,
            html=html,
            now=now,
            case_id=case.id,
        )


def route_claims(today: date, now: datetime) -> dict[str, Any]:
    """Batch every LA's approved, unsent claims.

    Returns {"batches": [...], "skipped": [...], "failed": [...], "claims_sent", "total_pence"}. One
    LA's failure (its transaction rolled back, nothing sent for it) does not stop the others; it is
    listed in `failed` (LA code and error type only) and its claims wait for the next run.
    """
    batches, skipped, failed = [], [], []
    for la_id in las_with_claims_to_send():
        try:
            result = route_la(la_id, today, now)
        except Exception as exc:  # reported, never silent: the flow fails after routing the rest
            with unit_of_work() as db:
                code = db.get(LocalAuthority, la_id).code
            failed.append({"la": code, "error": type(exc).__name__})
            continue
        if result is None:
            continue
        (skipped if result.get("skipped") else batches).append(result)
    return {
        "batches": batches,
        "skipped": skipped,
        "failed": failed,
        "claims_sent": sum(b["claims"] for b in batches),
        "total_pence": sum(b["total_pence"] for b in batches),
    }


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
            case = db.get(Case, claim.case_id)
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
    from models.domain.expenses import BUILT_IN_LIMITS, policy_on, remittance_problem
    from tasks.claims.claims_in import _policies

    tz = ZoneInfo(get_settings().timezone)
    batch = db.get(ClaimBatch, claim.batch_id) if claim.batch_id else None
    sent_on = batch.generated_at.astimezone(tz).date() if batch else claim.updated_at.astimezone(tz).date()
    policy = policy_on(_policies(db, case.la_id), claim.session_date) or BUILT_IN_LIMITS
    return remittance_problem(paid_on, sent_on, now.astimezone(tz).date(), policy.remittance_days)


def batches_table(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the run's table artifact: per LA, batch ref, count and total (no names)."""
    by_la: dict[str, list] = defaultdict(list)
    for b in batches:
        by_la[b["la"]].append(b)
    return [
        {
            "la": la,
            "batch": b["batch_ref"] or "-",
            "claims": b["claims"],
            "total": pounds(b["total_pence"]) if b["batch_ref"] else "-",
            "note": b.get("skipped", ""),
        }
        for la, items in sorted(by_la.items())
        for b in items
    ]


def routing_summary(
    imported: dict[str, Any],
    checked: dict[str, int],
    route: dict[str, Any],
    *,
    held_count: int,
    decisions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `expense-routing` run's JSON summary (the flow and `drs claims route` return the same)."""
    return {
        "imported": {
            k: imported[k]
            for k in ("imported", "updated", "duplicates", "invalid", "approved", "query", "held", "rejected")
        },
        "checked": checked,
        "batches": route["batches"],
        "skipped": route["skipped"],
        "failed": route.get("failed", []),
        "claims_sent": route["claims_sent"],
        "total_pence": route["total_pence"],
        "held": held_count,
        "decisions": decisions or [],
    }


def expense_routing_direct(today: date, now: datetime) -> dict[str, Any]:
    """The `expense-routing` flow's work without Prefect (no admin pause): what the CLI runs with no server."""
    from tasks.claims.claims_in import held_claims, import_claims, recheck_pending

    imported = import_claims(None, today, now)
    checked = recheck_pending(today, now)
    route = route_claims(today, now)
    return routing_summary(imported, checked, route, held_count=len(held_claims()))


__all__ = [
    "ClaimFileError",
    "ClaimsChanged",
    "batches_table",
    "import_remittance",
    "expense_routing_direct",
    "route_claims",
    "route_la",
    "routing_summary",
]

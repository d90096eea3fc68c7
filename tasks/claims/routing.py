"""Expense claims out: one batch workbook per LA, emailed to its finance team.

`route_claims(today, now)` — for each LA with `approved` claims not yet in a batch, in ONE
transaction per LA: record a `ClaimBatch`, render its workbook, queue the finance email with the
workbook attached (outbox key `claim-batch:<batch ref>`), move every claim in it to `sent` with the
batch id, and queue one "sent to your LA" email per claim to the family. The claims are taken with
a guarded UPDATE (`… WHERE status = 'approved' AND batch_id IS NULL`) whose row count must match:
if another run took any of them first the transaction rolls back, so a claim is never in two
batches (the exported-state guard) and a re-run finds nothing to send. The workbook is also
stored at `$DRS_HOME/reports/claims/<batch ref>.xlsx`. An LA with no finance address keeps its
claims `approved` and the team is told (once a day).

Remittances back from the LA: `tasks.claims.remittance`. The whole job (import, check, route,
admin decisions): `tasks.claims.job`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.db import Case, ClaimBatch, ExpenseClaim, LocalAuthority
from models.domain.expenses import pounds
from models.errors import InternalError
from reports.claims_workbook import BatchHeader, BatchLine, render_batch_workbook
from tasks.cases.casework import audit
from tasks.claims.family import tell_families_sent
from tasks.db import unit_of_work
from tasks.mail.attachment import Attachment
from tasks.mail.layout import long_date, render_email
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings

ACTOR = "expense-routing"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ClaimsChanged(InternalError, RuntimeError):
    """Another run batched some of these claims first; this batch was rolled back (retry is safe)."""


def _batch_ref(db: Session, la: LocalAuthority, today: date) -> str:
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


@dataclass(frozen=True)
class Routed:
    """What one routing did: a batch per LA sent, the LAs not sent to (no finance address: their
    claims wait and the team is told) and the LAs whose routing failed (LA code and error type;
    nothing was sent for them and their claims wait for the next run)."""

    batches: tuple[dict[str, Any], ...] = ()
    not_sent: tuple[dict[str, Any], ...] = ()
    failed: tuple[dict[str, str], ...] = ()

    def then(self, more: Routed) -> Routed:
        """This routing followed by another in the same run (after an admin's decisions): every
        batch of both; what the later one found not sent or failed (it tried those LAs again)."""
        return Routed(self.batches + more.batches, more.not_sent or self.not_sent, more.failed)


def route_la(la_id: int, today: date, now: datetime) -> dict[str, Any] | None:
    """Batch one LA's approved, unsent claims (see the module docstring); None when none are left."""
    settings = get_settings()
    with unit_of_work() as db:
        la = db.get_one(LocalAuthority, la_id)
        claims = list(
            db.scalars(
                select(ExpenseClaim)
                .join(Case, Case.id == ExpenseClaim.case_id)
                .where(Case.la_id == la_id, ExpenseClaim.status == "approved", ExpenseClaim.batch_id.is_(None))
                .order_by(ExpenseClaim.session_date, ExpenseClaim.id)
            ).all()
        )
        if not claims:
            return None
        if not la.finance_email:
            return _no_finance_address(db, la, len(claims), settings.team_email, today, now)
        cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_({c.case_id for c in claims})))}
        batch = _take(db, la, claims, today, now)
        content = render_batch_workbook(_header(la, batch, now, ZoneInfo(settings.timezone)), _lines(claims, cases))
        folder = settings.reports_dir / "claims"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{batch.batch_ref}.xlsx"
        batch.path = str(path)
        _queue_for_finance(db, la, la.finance_email, batch, content, now)
        for c in claims:
            c.status, c.batch_id = "sent", batch.id  # already so in the database; keeps the objects in step
        tell_families_sent(db, claims, cases, la.name, batch.batch_ref, now)
        summary = {"batch_ref": batch.batch_ref, "la": la.code, "claims": len(claims), "total_pence": batch.total_pence}
        audit(db, ACTOR, "claims:batch", None, now, summary)
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


def _no_finance_address(
    db: Session, la: LocalAuthority, waiting: int, team: str, today: date, now: datetime
) -> dict[str, Any]:
    """The LA has no finance email: its claims stay approved and the team is told (once a day)."""
    queue_email(
        db,
        key=f"claim-no-finance:{la.code}:{today.isoformat()}",
        kind="claim-no-finance",
        to=team,
        now=now,
        subject=f"Expense claims for {la.name} cannot be sent: no finance address",
        text=(
            f"{waiting} approved expense claim(s) for {la.name} ({la.code}) are waiting, but the "
            "register has no finance email for this LA. Add it with `drs la import`; the next run "
            "will send them.\n"
        ),
    )
    db.commit()
    return {"la": la.code, "batch_ref": None, "claims": waiting, "total_pence": 0, "skipped": "no finance address"}


def _take(db: Session, la: LocalAuthority, claims: list[ExpenseClaim], today: date, now: datetime) -> ClaimBatch:
    """Record the batch and move its claims to `sent` with the guarded UPDATE (the exported-state
    guard): when another run took any of them first, roll back and raise `ClaimsChanged`."""
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
    )
    if cast(CursorResult[Any], taken).rowcount != len(claims):
        db.rollback()
        raise ClaimsChanged(f"claims for {la.code} changed during routing; nothing was sent")
    return batch


def _header(la: LocalAuthority, batch: ClaimBatch, now: datetime, tz: ZoneInfo) -> BatchHeader:
    return BatchHeader(
        batch_ref=batch.batch_ref,
        la_name=la.name,
        period_start=batch.period_start,
        period_end=batch.period_end,
        generated_at=now.astimezone(tz).replace(microsecond=0),
    )


def _lines(claims: list[ExpenseClaim], cases: dict[int, Case]) -> list[BatchLine]:
    """One workbook row per claim: the payee is the claimant, else the case's requester."""
    return [
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


def _queue_for_finance(
    db: Session, la: LocalAuthority, to: str, batch: ClaimBatch, content: bytes, now: datetime
) -> None:
    """The finance team's email with the batch workbook attached (outbox key `claim-batch:<ref>`)."""
    n = batch.claim_count
    text_body, html = render_email(
        f"Expense claims batch {batch.batch_ref}",
        [
            f"Attached is batch {batch.batch_ref}: {n} expense claim(s) from families who attended "
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
        to=to,
        now=now,
        subject=f"Expense claims batch {batch.batch_ref} ({n} claim{'' if n == 1 else 's'}, {pounds(batch.total_pence)})",
        text=text_body,
        html=html,
        attachments=[Attachment(f"{batch.batch_ref}.xlsx", XLSX, content)],
    )


def route_claims(today: date, now: datetime) -> Routed:
    """Batch every LA's approved, unsent claims.

    One LA's failure (its transaction rolled back, nothing sent for it) does not stop the others;
    it is listed in `failed` (LA code and error type only) and its claims wait for the next run.
    """
    batches: list[dict[str, Any]] = []
    not_sent: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for la_id in las_with_claims_to_send():
        try:
            result = route_la(la_id, today, now)
        except Exception as exc:  # reported, never silent: the run fails after routing the rest
            with unit_of_work() as db:
                code = db.get_one(LocalAuthority, la_id).code
            failed.append({"la": code, "error": type(exc).__name__})
            continue
        if result is None:
            continue
        (not_sent if result.get("skipped") else batches).append(result)
    return Routed(tuple(batches), tuple(not_sent), tuple(failed))


def batches_table(batches: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the run's table artifact: per LA, batch ref, count and total (no names)."""
    by_la: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
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

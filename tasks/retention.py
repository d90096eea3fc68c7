"""Retention: anonymise the personal data of cases closed more than `RETENTION_MONTHS` ago.

What is removed (set to NULL, or replaced where the column cannot be empty):
- the case: requester name, email, phone and postcode, child's name and date of birth, notes;
- its events' free-text notes;
- its meetings' attendees (names, emails), access notes and online links;
- its emails in the outbox that were sent, failed or bounced: address, bodies and attachments;
- the free-text note of how a family was reached after a bounce (issue 15);
- its certificates' PDF files (the certificate row — number, type, dates — stays);
- its expense claims' payee name, email and description, once the claim is `paid` or `rejected`
  (an unpaid claim keeps them until it is paid: the next weekly run clears them).
What is kept: every figure and code — references, LA, decision type, dates of events, clocks,
certificate numbers and dates, claim amounts, categories and statuses — so reports still add up.

`Case.anonymised_at` records when; an audit entry `case:anonymised` names the case by reference.
Idempotent: a second run finds nothing to do. Batches of `BATCH` cases per transaction.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import and_, delete, func, select, update

from models.db import (
    Case, CaseEvent, Certificate, ContactProblem, ExpenseClaim, MediationSession, OutboxAttachment, OutboxEmail, SessionAttendee,
)
from models.domain.operations import closed_before_for_retention
from tasks.casework import audit
from tasks.db import unit_of_work

BATCH = 500
REMOVED = "(removed under the retention policy)"
ANONYMISED_ADDRESS = "anonymised@invalid"
CASE_PERSONAL_FIELDS = ("requester_name", "requester_email", "requester_phone", "requester_postcode",
                        "child_name", "child_date_of_birth", "notes")


@dataclass
class RetentionSummary:
    closed_before: str = ""
    cases: int = 0
    emails: int = 0
    attendees: int = 0
    certificates: int = 0
    claims: int = 0
    claims_waiting_for_payment: int = 0
    refs: list[str] | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def cases_due(db, today: date, limit: int = BATCH) -> list[tuple[int, str]]:
    """(id, ref) of closed, not yet anonymised cases whose last `closed` event is old enough."""
    cutoff = closed_before_for_retention(today)
    closed_on = (select(CaseEvent.case_id, func.max(CaseEvent.on).label("closed_on"))
                 .where(CaseEvent.event == "closed").group_by(CaseEvent.case_id).subquery())
    stmt = (select(Case.id, Case.ref).join(closed_on, closed_on.c.case_id == Case.id)
            .where(Case.status == "closed", Case.anonymised_at.is_(None), closed_on.c.closed_on <= cutoff)
            .order_by(Case.id).limit(limit))
    return [(row.id, row.ref) for row in db.execute(stmt)]


def _anonymise_batch(db, ids: list[int], now: datetime, summary: RetentionSummary) -> None:
    db.execute(update(Case).where(Case.id.in_(ids))
               .values(**{f: None for f in CASE_PERSONAL_FIELDS}, anonymised_at=now, updated_at=now))
    db.execute(update(CaseEvent).where(CaseEvent.case_id.in_(ids), CaseEvent.note.is_not(None)).values(note=None))
    session_ids = select(MediationSession.id).where(MediationSession.case_id.in_(ids))
    summary.attendees += db.execute(
        update(SessionAttendee).where(SessionAttendee.session_id.in_(session_ids))
        .values(name=None, email=None)).rowcount or 0
    db.execute(update(MediationSession).where(MediationSession.case_id.in_(ids))
               .values(access_notes=None, online_url=None))
    email_ids = list(db.scalars(select(OutboxEmail.id).where(
        OutboxEmail.case_id.in_(ids), OutboxEmail.status.in_(("sent", "failed", "bounced")))))
    if email_ids:
        db.execute(delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(email_ids)))
        db.execute(update(OutboxEmail).where(OutboxEmail.id.in_(email_ids))
                   .values(to_addr=ANONYMISED_ADDRESS, body_text=REMOVED, body_html=None, last_error=None))
        summary.emails += len(email_ids)
    db.execute(update(ContactProblem).where(ContactProblem.case_id.in_(ids), ContactProblem.resolution_note.is_not(None))
               .values(resolution_note=None))  # issue 15: how the family was reached, in free text
    for cert in db.scalars(select(Certificate).where(Certificate.case_id.in_(ids), Certificate.pdf_path.is_not(None))):
        Path(cert.pdf_path).unlink(missing_ok=True)
        cert.pdf_path = None
        summary.certificates += 1


def _clear_paid_claims(db, summary: RetentionSummary) -> None:
    anonymised = select(Case.id).where(Case.anonymised_at.is_not(None))
    has_payee = (ExpenseClaim.claimant_name.is_not(None)) | (ExpenseClaim.claimant_email.is_not(None)) \
        | (ExpenseClaim.description.is_not(None))
    summary.claims += db.execute(
        update(ExpenseClaim).where(ExpenseClaim.case_id.in_(anonymised), ExpenseClaim.status.in_(("paid", "rejected")), has_payee)
        .values(claimant_name=None, claimant_email=None, description=None)).rowcount or 0
    summary.claims_waiting_for_payment = db.scalar(
        select(func.count()).select_from(ExpenseClaim)
        .where(and_(ExpenseClaim.case_id.in_(anonymised), ExpenseClaim.status.not_in(("paid", "rejected")), has_payee))) or 0


def anonymise_closed_cases(today: date, now: datetime, *, actor: str = "retention") -> RetentionSummary:
    """Anonymise every case due on `today`; returns what was done (references and counts only)."""
    summary = RetentionSummary(closed_before=closed_before_for_retention(today).isoformat(), refs=[])
    while True:
        with unit_of_work() as db:
            due = cases_due(db, today)
            if not due:
                break
            _anonymise_batch(db, [i for i, _ in due], now, summary)
            for case_id, ref in due:
                audit(db, actor, "case:anonymised", case_id, now, {"ref": ref})
            db.commit()
        summary.cases += len(due)
        summary.refs.extend(ref for _, ref in due)
    with unit_of_work() as db:
        _clear_paid_claims(db, summary)
        db.commit()
    return summary

"""Anonymising cases in the database: what `tasks.privacy.retention` removes, table by table.

`anonymise_batch(db, ids, now, tally)` clears the personal data of cases `ids` in one
transaction (the caller commits) and returns the files on disk to delete once it has committed.
Every figure and code stays; see `tasks/privacy/retention.py` for the whole policy.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from models.db import (
    Case,
    CaseEvent,
    Certificate,
    ClaimBatch,
    ContactProblem,
    ExpenseClaim,
    MediationSession,
    OutboxAttachment,
    OutboxEmail,
    SessionAttendee,
)
from tasks.privacy.personal_files import case_files

REMOVED = "(removed under the retention policy)"
ANONYMISED_ADDRESS = "anonymised@invalid"
CASE_PERSONAL_FIELDS = (
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_postcode",
    "child_name",
    "child_date_of_birth",
    "notes",
)
UNSENT = ("pending", "sending")
#: a string in an event's `detail` that is a code, a date or a reference (kept); anything else is free text
_CODE = re.compile(r"^(?:[a-z0-9_.:-]{1,60}|\d{4}-\d{2}-\d{2}(?:T[\d:.+-]+)?|[A-Z]{2,6}-[A-Za-z0-9-]{1,40})$")


@dataclass
class AnonymisationSummary:
    """What anonymising (by retention or on request) did: references and counts only."""

    closed_before: str = ""
    cases: int = 0
    emails: int = 0
    emails_cancelled: int = 0
    attachments: int = 0
    attendees: int = 0
    certificates: int = 0
    claims: int = 0
    claims_waiting_for_payment: int = 0
    claim_workbooks: int = 0
    case_files: dict[str, int] = field(default_factory=dict)
    case_file_errors: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    refs: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scrub_detail(detail: dict | None) -> dict | None:
    """`detail` with every free-text string replaced by REMOVED (codes, dates, refs and numbers kept)."""
    if not detail:
        return detail

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return value if _CODE.match(value) else REMOVED
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    return scrub(dict(detail))


def anonymise_batch(
    db: Session, ids: list[int], now: datetime, summary: AnonymisationSummary, *, erase: bool = False
) -> list[Path]:
    """Anonymise cases `ids` in `db`; returns the files to delete once the transaction commits."""
    from tasks.settings import get_settings

    files = case_files(db, ids, get_settings().home)
    _clear_case_and_events(db, ids, now)
    _clear_meetings(db, ids, summary)
    _clear_emails_and_workbooks(db, ids, summary)
    _clear_certificates(db, ids, summary)
    db.execute(
        update(ContactProblem)
        .where(ContactProblem.case_id.in_(ids), ContactProblem.resolution_note.is_not(None))
        .values(resolution_note=None)
    )  # issue 15: how the family was reached, in free text
    db.execute(
        update(ExpenseClaim).where(ExpenseClaim.case_id.in_(ids), ExpenseClaim.reason.is_not(None)).values(reason=None)
    )
    if erase:
        summary.claims += _rowcount(
            db.execute(
                update(ExpenseClaim)
                .where(ExpenseClaim.case_id.in_(ids), _has_payee())
                .values(claimant_name=None, claimant_email=None, description=None)
            )
        )
    return files


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _clear_case_and_events(db: Session, ids: list[int], now: datetime) -> None:
    db.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(**{f: None for f in CASE_PERSONAL_FIELDS}, anonymised_at=now, updated_at=now)
    )
    db.execute(update(CaseEvent).where(CaseEvent.case_id.in_(ids), CaseEvent.note.is_not(None)).values(note=None))
    for event in db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids), CaseEvent.detail.is_not(None))):
        scrubbed = _scrub_detail(event.detail)
        if scrubbed != event.detail:
            event.detail = scrubbed


def _clear_meetings(db: Session, ids: list[int], summary: AnonymisationSummary) -> None:
    session_ids = select(MediationSession.id).where(MediationSession.case_id.in_(ids))
    summary.attendees += _rowcount(
        db.execute(
            update(SessionAttendee)
            .where(
                SessionAttendee.session_id.in_(session_ids),
                (SessionAttendee.name.is_not(None)) | (SessionAttendee.email.is_not(None)),
            )
            .values(name=None, email=None)
        )
    )
    db.execute(
        update(MediationSession).where(MediationSession.case_id.in_(ids)).values(access_notes=None, online_url=None)
    )


def _clear_emails_and_workbooks(db: Session, ids: list[int], summary: AnonymisationSummary) -> None:
    """Every email of the cases (unsent ones cancelled), and the claims workbooks of batches holding
    their claims: the file and the copy sent to finance."""
    emails = db.execute(
        select(OutboxEmail.id, OutboxEmail.status).where(
            OutboxEmail.case_id.in_(ids), OutboxEmail.to_addr != ANONYMISED_ADDRESS
        )
    ).all()
    email_ids = [e.id for e in emails]
    batch_email_ids = _clear_workbooks(db, ids, summary)
    attachment_owners = email_ids + batch_email_ids
    if attachment_owners:
        summary.attachments += _rowcount(
            db.execute(delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(attachment_owners)))
        )
        db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(batch_email_ids), OutboxEmail.status.in_(UNSENT))
            .values(status="cancelled", last_error="cancelled: a case in the batch was anonymised")
        )
    if not email_ids:
        return
    db.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(email_ids))
        .values(
            to_addr=ANONYMISED_ADDRESS,
            subject=REMOVED,
            body_text=REMOVED,
            body_html=None,
            last_error=None,
            claimed_by=None,
        )
    )
    unsent = [e.id for e in emails if e.status in UNSENT]
    if unsent:
        db.execute(update(OutboxEmail).where(OutboxEmail.id.in_(unsent)).values(status="cancelled"))
    summary.emails += len(email_ids) - len(unsent)
    summary.emails_cancelled += len(unsent)


def _clear_workbooks(db: Session, ids: list[int], summary: AnonymisationSummary) -> list[int]:
    """Forget the workbook files of batches holding the cases' claims; returns the ids of the emails
    that carried those workbooks to finance."""
    batch_ids = select(ExpenseClaim.batch_id).where(ExpenseClaim.case_id.in_(ids), ExpenseClaim.batch_id.is_not(None))
    batches = db.scalars(select(ClaimBatch).where(ClaimBatch.id.in_(batch_ids))).all()
    batch_email_ids = (
        list(
            db.scalars(
                select(OutboxEmail.id).where(OutboxEmail.key.in_([f"claim-batch:{b.batch_ref}" for b in batches]))
            )
        )
        if batches
        else []
    )
    for b in batches:
        if b.path:
            b.path = None
            summary.claim_workbooks += 1
    return batch_email_ids


def _clear_certificates(db: Session, ids: list[int], summary: AnonymisationSummary) -> None:
    for cert in db.scalars(
        select(Certificate).where(
            Certificate.case_id.in_(ids), (Certificate.pdf_path.is_not(None)) | (Certificate.approval_note.is_not(None))
        )
    ):
        if cert.pdf_path:
            summary.certificates += 1
        cert.pdf_path, cert.approval_note = None, None


def _has_payee() -> Any:
    return (
        (ExpenseClaim.claimant_name.is_not(None))
        | (ExpenseClaim.claimant_email.is_not(None))
        | (ExpenseClaim.description.is_not(None))
    )


def clear_paid_claims(db: Session, summary: AnonymisationSummary) -> None:
    """Payee details of paid or rejected claims of anonymised cases go; unpaid ones are counted."""
    anonymised = select(Case.id).where(Case.anonymised_at.is_not(None), Case.legal_hold_reason.is_(None))
    has_payee = _has_payee()
    summary.claims += _rowcount(
        db.execute(
            update(ExpenseClaim)
            .where(ExpenseClaim.case_id.in_(anonymised), ExpenseClaim.status.in_(("paid", "rejected")), has_payee)
            .values(claimant_name=None, claimant_email=None, description=None, reason=None)
        )
    )
    summary.claims_waiting_for_payment = (
        db.scalar(
            select(func.count())
            .select_from(ExpenseClaim)
            .where(
                and_(ExpenseClaim.case_id.in_(anonymised), ExpenseClaim.status.not_in(("paid", "rejected")), has_payee)
            )
        )
        or 0
    )

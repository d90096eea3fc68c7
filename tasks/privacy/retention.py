"""Retention: anonymise the personal data of cases closed more than `RETENTION_MONTHS` ago —
every copy of it, in the database and on disk. Also erasure on request (`erase_case`).

What is removed (set to NULL, or replaced where the column cannot be empty):
- the case: requester name, email, phone and postcode, child's name and date of birth, notes;
- its events' free-text notes, and free text in their `detail` (a breach reason becomes
  "(removed …)"; codes, ids and dates stay, so "late meetings with a reason recorded" still counts);
- its meetings' attendees (names, emails), access notes and online links (the venue, a public
  place, stays);
- every email of the case in the outbox, whatever its status: address, subject, bodies, last error
  and attachments; an email not yet sent is cancelled (status `cancelled`), never delivered; the
  `.eml` copies of those emails under `outbox/sent/` are deleted;
- the free-text note of how a family was reached after a bounce (issue 15);
- its certificates' PDF files and approval notes (the certificate row — number, type, dates — stays);
- its expense claims' refusal/query reason at once, and payee name, email and description once the
  claim is `paid` or `rejected` (an unpaid claim keeps them until it is paid: the next weekly run
  clears them; an erasure clears them at once);
- the claims workbook of every batch that held one of its claims: the file in `reports/claims/`
  and the copy attached to the email sent to the LA's finance team;
- the imported referral and claim files (`inbox/*/processed/`, `inbox/*/rejected/` with their
  `.errors.json`) that hold one of its records (a file that also held other families' records goes
  too: everything imported from it is in the database).
What is kept: every figure and code — references, LA, decision type, dates of events, clocks,
certificate numbers and dates, claim amounts, categories and statuses — so reports still add up.
The audit log is never changed (append-only; it holds references and codes only).

A case on legal hold (`Case.legal_hold_reason`) is never anonymised, and its files are not deleted.
`Case.anonymised_at` records when; an audit entry `case:anonymised` names the case by reference.
Idempotent: a second run finds nothing to do. Batches of `BATCH` cases per transaction; files are
deleted after the transaction commits.

Where the work sits: `tasks/privacy/anonymise.py` (the database, table by table),
`tasks/privacy/personal_files.py` (the files on disk), `tasks/privacy/job.py` (the weekly job:
this and `tasks/privacy/file_retention.py`, run the same way by the flow and by `drs retention`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, CaseEvent
from models.domain.operations import closed_before_for_retention
from models.errors import Refused
from tasks.bounces.erasure import case_message_ids, maildir_notices, remove_imap_notices  # qa-15-17
from tasks.cases.casework import CaseworkError, audit, get_case
from tasks.db import unit_of_work
from tasks.privacy.anonymise import ANONYMISED_ADDRESS, AnonymisationSummary, anonymise_batch, clear_paid_claims
from tasks.privacy.personal_files import case_files, delete_files

__all__ = [
    "ANONYMISED_ADDRESS",
    "BATCH",
    "AnonymisationSummary",
    "OnHoldError",
    "anonymise_closed_cases",
    "case_files",
    "cases_due",
    "erase_case",
    "held_cases_due",
    "plan_retention",
]

BATCH = 500


class OnHoldError(CaseworkError, Refused):
    """The case is on legal hold: nothing of it may be anonymised or deleted."""


def _closed_on_subquery() -> Any:
    return (
        select(CaseEvent.case_id, func.max(CaseEvent.on).label("closed_on"))
        .where(CaseEvent.event == "closed")
        .group_by(CaseEvent.case_id)
        .subquery()
    )


def cases_due(db: Session, today: date, limit: int = BATCH) -> list[tuple[int, str]]:
    """(id, ref) of closed, not yet anonymised, not held cases whose last `closed` event is old enough."""
    cutoff = closed_before_for_retention(today)
    closed_on = _closed_on_subquery()
    stmt = (
        select(Case.id, Case.ref)
        .join(closed_on, closed_on.c.case_id == Case.id)
        .where(
            Case.status == "closed",
            Case.anonymised_at.is_(None),
            Case.legal_hold_reason.is_(None),
            closed_on.c.closed_on <= cutoff,
        )
        .order_by(Case.id)
        .limit(limit)
    )
    return [(row.id, row.ref) for row in db.execute(stmt)]


def held_cases_due(db: Session, today: date) -> list[str]:
    """References of cases that would be due but are on legal hold."""
    cutoff = closed_before_for_retention(today)
    closed_on = _closed_on_subquery()
    stmt = (
        select(Case.ref)
        .join(closed_on, closed_on.c.case_id == Case.id)
        .where(
            Case.status == "closed",
            Case.anonymised_at.is_(None),
            Case.legal_hold_reason.is_not(None),
            closed_on.c.closed_on <= cutoff,
        )
        .order_by(Case.ref)
    )
    return list(db.scalars(stmt))


def _remove_imap_notices(message_ids: set[str], summary: AnonymisationSummary) -> None:
    """qa-15-17: the IMAP bounce mailbox's notices about the anonymised cases; a mailbox that
    cannot be reached is reported, never stops retention."""
    try:
        removed = remove_imap_notices(message_ids)
    except Exception as exc:  # another system
        summary.case_file_errors.append(f"bounce mailbox processed folder: {type(exc).__name__}")
        return
    if removed:
        summary.case_files["bounces/processed"] = summary.case_files.get("bounces/processed", 0) + removed


def compact_sqlite() -> str | None:
    """On SQLite, rewrite the database file so removed values do not linger in free pages or the
    write-ahead log (`VACUUM`, then a truncating checkpoint). Returns a one-line problem, or None.
    (PostgreSQL's own VACUUM, run by autovacuum, reclaims the old row versions there.)"""
    from tasks.db import get_engine

    engine = get_engine()
    if engine.dialect.name != "sqlite":
        return None
    try:
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as exc:  # busy: the next run compacts
        return f"database not compacted ({type(exc).__name__}); the next run tries again"
    return None


def anonymise_closed_cases(today: date, now: datetime, *, actor: str = "retention") -> AnonymisationSummary:
    """Anonymise every case due on `today`; returns what was done (references and counts only)."""
    from tasks.settings import get_settings

    home = get_settings().home
    refs: list[str] = []
    summary = AnonymisationSummary(closed_before=closed_before_for_retention(today).isoformat(), refs=refs)
    with unit_of_work() as db:
        summary.held = held_cases_due(db, today)
    while True:
        with unit_of_work() as db:
            due = cases_due(db, today)
            if not due:
                break
            notices = case_message_ids(db, [i for i, _ in due])  # qa-15-17: raw bounce notices about them
            files = anonymise_batch(db, [i for i, _ in due], now, summary) + maildir_notices(notices)
            for case_id, ref in due:
                audit(db, actor, "case:anonymised", case_id, now, {"ref": ref, "why": "retention"})
            db.commit()
        delete_files(files, home, summary)
        _remove_imap_notices(notices, summary)
        summary.cases += len(due)
        refs.extend(ref for _, ref in due)
    with unit_of_work() as db:
        clear_paid_claims(db, summary)
        db.commit()
    if summary.cases or summary.claims:
        problem = compact_sqlite()
        if problem:
            summary.case_file_errors.append(problem)
    return summary


def plan_retention(today: date) -> dict[str, Any]:
    """What `anonymise_closed_cases(today)` and the file clean-up would do (references and counts only)."""
    from tasks.privacy.file_retention import old_copies

    with unit_of_work() as db:
        due = cases_due(db, today, limit=1_000_000)
        held = held_cases_due(db, today)
    files = old_copies(today)
    return {
        "closed_before": closed_before_for_retention(today).isoformat(),
        "cases": len(due),
        "refs": [ref for _, ref in due],
        "held": held,
        "files_older_than": files["older_than"],
        "files_to_remove": files["counts"],
    }


def erase_case(ref: str, reason: str, now: datetime, *, actor: str = "cli:case-erase") -> AnonymisationSummary:
    """Erasure on request: anonymise case `ref` at once (open or closed), unless it is on legal hold
    (`OnHoldError`, naming the hold's reason). `reason` is recorded in the audit trail."""
    from tasks.settings import get_settings

    reason = " ".join((reason or "").split())
    if not reason:
        raise CaseworkError("--reason is required: say why the case is erased (no personal details)")
    home = get_settings().home
    summary = AnonymisationSummary(refs=[])
    with unit_of_work() as db:
        case = get_case(db, ref, for_update=True)
        if case.legal_hold_reason:
            raise OnHoldError(
                f"{case.ref} is on legal hold ({case.legal_hold_reason}); release it first "
                f"with `drs case release {case.ref}`"
            )
        if case.anonymised_at is not None:
            summary.refs = [case.ref]
            return summary
        notices = case_message_ids(db, [case.id])  # qa-15-17: raw bounce notices about the case
        files = anonymise_batch(db, [case.id], now, summary, erase=True) + maildir_notices(notices)
        audit(db, actor, "case:erased", case.id, now, {"ref": case.ref, "reason": reason[:500]})
        db.commit()
        summary.cases, summary.refs = 1, [case.ref]
    delete_files(files, home, summary)
    _remove_imap_notices(notices, summary)
    problem = compact_sqlite()
    if problem:
        summary.case_file_errors.append(problem)
    return summary

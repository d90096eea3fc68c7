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
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, select, update

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
    Referral,
    SessionAttendee,
)
from models.domain.operations import closed_before_for_retention
from models.errors import Refused
from tasks.bounces.erasure import case_message_ids, maildir_notices, remove_imap_notices  # qa-15-17
from tasks.cases.casework import CaseworkError, audit, get_case
from tasks.db import unit_of_work

BATCH = 500
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
#: the folders of imported files (relative to $DRS_HOME)
IMPORT_FOLDERS = (
    "inbox/referrals/processed",
    "inbox/referrals/rejected",
    "inbox/claims/processed",
    "inbox/claims/rejected",
)


class OnHoldError(CaseworkError, Refused):
    """The case is on legal hold: nothing of it may be anonymised or deleted."""


@dataclass
class RetentionSummary:
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

    def as_dict(self) -> dict:
        return asdict(self)


def _closed_on_subquery():
    return (
        select(CaseEvent.case_id, func.max(CaseEvent.on).label("closed_on"))
        .where(CaseEvent.event == "closed")
        .group_by(CaseEvent.case_id)
        .subquery()
    )


def cases_due(db, today: date, limit: int = BATCH) -> list[tuple[int, str]]:
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


def held_cases_due(db, today: date) -> list[str]:
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


def eml_names(row_id: int, key: str) -> set[str]:
    """The names an outbox email's `.eml` copy can have under `outbox/sent/`: by outbox id
    (`outbox-<id>-<kind>.eml` today, `<id>.eml` and `<id>-….eml`) and the older name made from its key."""
    return {f"{row_id}.eml", re.sub(r"[^A-Za-z0-9.\-]", "_", key)[:150] + ".eml"}


def eml_files(home: Path, rows: list[tuple[int, str]]) -> list[Path]:
    """The `.eml` files under `outbox/sent/` of these outbox rows (id, key)."""
    folder = home / "outbox" / "sent"
    if not rows or not folder.is_dir():
        return []
    names: set[str] = set()
    ids = {str(i) for i, _ in rows}
    for row_id, key in rows:
        names |= eml_names(row_id, key)
    return [p for p in folder.rglob("*.eml") if p.name in names or _eml_outbox_id(p.name) in ids]


def _eml_outbox_id(name: str) -> str:
    """The outbox id in an `.eml` name: `outbox-0000042-ack.eml` (today's FileMailer) or `42….eml`."""
    match = re.match(r"outbox-0*(\d+)-", name)
    return match.group(1) if match else re.split(r"[-_.]", name, maxsplit=1)[0]


def _file_text(path: Path) -> str:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                return "\n".join(
                    str(v)
                    for ws in book.worksheets
                    for row in ws.iter_rows(values_only=True)
                    for v in row
                    if v is not None
                )
            finally:
                book.close()
        except Exception:
            return ""
    try:
        return path.read_bytes().decode("utf-8", errors="ignore")
    except OSError:
        return ""


def import_files_mentioning(home: Path, tokens: set[str]) -> list[Path]:
    """Imported files (and their `.errors.json`) holding any of `tokens` (form ids, claim ids,
    case references) as a whole word."""
    tokens = {t for t in tokens if t}
    if not tokens:
        return []
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in sorted(tokens)) + r")(?![\w-])")
    found = []
    for relative in IMPORT_FOLDERS:
        folder = home / relative
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and pattern.search(_file_text(path)):
                found.append(path)
                companion = path.with_name(path.name + ".errors.json")
                if companion.exists():
                    found.append(companion)
    return found


def case_file_tokens(db, case_ids: list[int]) -> set[str]:
    """What identifies these cases' records inside imported files: references, form ids, claim ids."""
    tokens = set(db.scalars(select(Case.ref).where(Case.id.in_(case_ids))))
    tokens |= set(db.scalars(select(Referral.form_id).where(Referral.case_id.in_(case_ids))))
    tokens |= set(db.scalars(select(ExpenseClaim.claim_id).where(ExpenseClaim.case_id.in_(case_ids))))
    return tokens


def case_files(db, case_ids: list[int], home: Path) -> list[Path]:
    """Every file on disk holding personal data of these cases (certificates excluded: see below)."""
    rows = [
        (r.id, r.key)
        for r in db.execute(select(OutboxEmail.id, OutboxEmail.key).where(OutboxEmail.case_id.in_(case_ids)))
    ]
    batch_ids = select(ExpenseClaim.batch_id).where(
        ExpenseClaim.case_id.in_(case_ids), ExpenseClaim.batch_id.is_not(None)
    )
    batches = db.execute(
        select(ClaimBatch.id, ClaimBatch.batch_ref, ClaimBatch.path).where(ClaimBatch.id.in_(batch_ids))
    ).all()
    batch_rows = (
        [
            (r.id, r.key)
            for r in db.execute(
                select(OutboxEmail.id, OutboxEmail.key).where(
                    OutboxEmail.key.in_([f"claim-batch:{b.batch_ref}" for b in batches])
                )
            )
        ]
        if batches
        else []
    )
    files = eml_files(home, rows + batch_rows)
    files += [Path(b.path) for b in batches if b.path]
    files += [
        Path(p)
        for p in db.scalars(
            select(Certificate.pdf_path).where(Certificate.case_id.in_(case_ids), Certificate.pdf_path.is_not(None))
        )
    ]
    files += import_files_mentioning(home, case_file_tokens(db, case_ids))
    return files


def _anonymise_batch(
    db, ids: list[int], now: datetime, summary: RetentionSummary, *, erase: bool = False
) -> list[Path]:
    """Anonymise cases `ids` in `db`; returns the files to delete once the transaction commits."""
    from tasks.settings import get_settings

    home = get_settings().home
    files = case_files(db, ids, home)
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
    session_ids = select(MediationSession.id).where(MediationSession.case_id.in_(ids))
    summary.attendees += (
        db.execute(
            update(SessionAttendee)
            .where(
                SessionAttendee.session_id.in_(session_ids),
                (SessionAttendee.name.is_not(None)) | (SessionAttendee.email.is_not(None)),
            )
            .values(name=None, email=None)
        ).rowcount
        or 0
    )
    db.execute(
        update(MediationSession).where(MediationSession.case_id.in_(ids)).values(access_notes=None, online_url=None)
    )
    # every email of the case; unsent ones are cancelled
    emails = db.execute(
        select(OutboxEmail.id, OutboxEmail.status).where(
            OutboxEmail.case_id.in_(ids), OutboxEmail.to_addr != ANONYMISED_ADDRESS
        )
    ).all()
    email_ids = [e.id for e in emails]
    # the claims workbooks of batches holding the case's claims: the file and the copy sent to finance
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
    attachment_owners = email_ids + batch_email_ids
    if attachment_owners:
        summary.attachments += (
            db.execute(delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(attachment_owners))).rowcount or 0
        )
        db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(batch_email_ids), OutboxEmail.status.in_(UNSENT))
            .values(status="cancelled", last_error="cancelled: a case in the batch was anonymised")
        )
    if email_ids:
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
    for cert in db.scalars(
        select(Certificate).where(
            Certificate.case_id.in_(ids), (Certificate.pdf_path.is_not(None)) | (Certificate.approval_note.is_not(None))
        )
    ):
        if cert.pdf_path:
            summary.certificates += 1
        cert.pdf_path, cert.approval_note = None, None
    db.execute(
        update(ContactProblem)
        .where(ContactProblem.case_id.in_(ids), ContactProblem.resolution_note.is_not(None))
        .values(resolution_note=None)
    )  # issue 15: how the family was reached, in free text
    db.execute(
        update(ExpenseClaim).where(ExpenseClaim.case_id.in_(ids), ExpenseClaim.reason.is_not(None)).values(reason=None)
    )
    if erase:
        summary.claims += (
            db.execute(
                update(ExpenseClaim)
                .where(ExpenseClaim.case_id.in_(ids), _has_payee())
                .values(claimant_name=None, claimant_email=None, description=None)
            ).rowcount
            or 0
        )
    return files


def _has_payee():
    return (
        (ExpenseClaim.claimant_name.is_not(None))
        | (ExpenseClaim.claimant_email.is_not(None))
        | (ExpenseClaim.description.is_not(None))
    )


def _clear_paid_claims(db, summary: RetentionSummary) -> None:
    anonymised = select(Case.id).where(Case.anonymised_at.is_not(None), Case.legal_hold_reason.is_(None))
    has_payee = _has_payee()
    summary.claims += (
        db.execute(
            update(ExpenseClaim)
            .where(ExpenseClaim.case_id.in_(anonymised), ExpenseClaim.status.in_(("paid", "rejected")), has_payee)
            .values(claimant_name=None, claimant_email=None, description=None, reason=None)
        ).rowcount
        or 0
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


def _remove_imap_notices(message_ids: set[str], summary: RetentionSummary) -> None:
    """qa-15-17: the IMAP bounce mailbox's notices about the anonymised cases; a mailbox that
    cannot be reached is reported, never stops retention."""
    try:
        removed = remove_imap_notices(message_ids)
    except Exception as exc:  # another system
        summary.case_file_errors.append(f"bounce mailbox processed folder: {type(exc).__name__}")
        return
    if removed:
        summary.case_files["bounces/processed"] = summary.case_files.get("bounces/processed", 0) + removed


def delete_files(files: list[Path], home: Path, summary: RetentionSummary) -> None:
    """Delete `files`; count them by folder (relative to `home`); a failure is reported by name only."""
    for path in dict.fromkeys(files):
        try:
            folder = str(path.parent.resolve().relative_to(home.resolve()))
        except ValueError:
            folder = "other"
        try:
            if path.exists():
                path.unlink()
                summary.case_files[folder] = summary.case_files.get(folder, 0) + 1
        except OSError as exc:
            summary.case_file_errors.append(f"{folder}/{path.name}: {exc.strerror or type(exc).__name__}")


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
            raw = conn.connection.driver_connection
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as exc:  # busy: the next run compacts
        return f"database not compacted ({type(exc).__name__}); the next run tries again"
    return None


def anonymise_closed_cases(today: date, now: datetime, *, actor: str = "retention") -> RetentionSummary:
    """Anonymise every case due on `today`; returns what was done (references and counts only)."""
    from tasks.settings import get_settings

    home = get_settings().home
    summary = RetentionSummary(closed_before=closed_before_for_retention(today).isoformat(), refs=[])
    with unit_of_work() as db:
        summary.held = held_cases_due(db, today)
    while True:
        with unit_of_work() as db:
            due = cases_due(db, today)
            if not due:
                break
            notices = case_message_ids(db, [i for i, _ in due])  # qa-15-17: raw bounce notices about them
            files = _anonymise_batch(db, [i for i, _ in due], now, summary) + maildir_notices(notices)
            for case_id, ref in due:
                audit(db, actor, "case:anonymised", case_id, now, {"ref": ref, "why": "retention"})
            db.commit()
        delete_files(files, home, summary)
        _remove_imap_notices(notices, summary)
        summary.cases += len(due)
        summary.refs.extend(ref for _, ref in due)
    with unit_of_work() as db:
        _clear_paid_claims(db, summary)
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


def erase_case(ref: str, reason: str, now: datetime, *, actor: str = "cli:case-erase") -> RetentionSummary:
    """Erasure on request: anonymise case `ref` at once (open or closed), unless it is on legal hold
    (`OnHoldError`, naming the hold's reason). `reason` is recorded in the audit trail."""
    from tasks.settings import get_settings

    reason = " ".join((reason or "").split())
    if not reason:
        raise CaseworkError("--reason is required: say why the case is erased (no personal details)")
    home = get_settings().home
    summary = RetentionSummary(refs=[])
    with unit_of_work() as db:
        case = get_case(db, ref, for_update=True)
        if case.legal_hold_reason:
            raise OnHoldError(
                f"{case.ref} is on legal hold ({case.legal_hold_reason}); release it first "
                f"with `drs case release {case.ref}`"
            )
        if case.anonymised_at is not None:
            summary.refs.append(case.ref)
            return summary
        notices = case_message_ids(db, [case.id])  # qa-15-17: raw bounce notices about the case
        files = _anonymise_batch(db, [case.id], now, summary, erase=True) + maildir_notices(notices)
        audit(db, actor, "case:erased", case.id, now, {"ref": case.ref, "reason": reason[:500]})
        db.commit()
        summary.cases, summary.refs = 1, [case.ref]
    delete_files(files, home, summary)
    _remove_imap_notices(notices, summary)
    problem = compact_sqlite()
    if problem:
        summary.case_file_errors.append(problem)
    return summary

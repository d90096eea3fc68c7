"""Where a case's personal data sits on disk: every file to delete when the case is anonymised.

`.eml` copies of its emails under `outbox/sent/`, the claims workbooks of batches holding its
claims, its certificates' PDFs, and the imported referral and claim files (`inbox/*/processed/`,
`inbox/*/rejected/` with their `.errors.json`) that hold one of its records. `delete_files`
removes them and counts them by folder (names only, never contents, in what it reports).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from models.db import Case, Certificate, ClaimBatch, ExpenseClaim, OutboxEmail, Referral

#: the folders of imported files (relative to $DRS_HOME)
IMPORT_FOLDERS = (
    "inbox/referrals/processed",
    "inbox/referrals/rejected",
    "inbox/claims/processed",
    "inbox/claims/rejected",
)


class FileTally(Protocol):
    """What `delete_files` records into: files deleted by folder, and the ones it could not delete."""

    case_files: dict[str, int]
    case_file_errors: list[str]


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


def delete_files(files: list[Path], home: Path, summary: FileTally) -> None:
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

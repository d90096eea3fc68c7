"""Retention for files: personal data also sits in copies on disk, not only in the database.

Referral and claim files kept after import (`processed/`, `rejected/` with their `.errors.json`),
emails written as `.eml` files when no SMTP relay is set (`outbox/sent/`) and the claims
workbooks sent to each LA (`reports/claims/`) all carry names, addresses and dates of birth.
Everything the service needs from them is in the database, so a file last changed more than
`RETENTION_MONTHS` months ago is deleted. Monthly reports (no personal data) and certificates
(removed with their case by `tasks/privacy/retention.py`) are left alone. Files of a case on legal hold
(its `.eml` copies, imported files holding its records, workbooks of batches with its claims) are
kept, whatever their age.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from models.domain.calendar import add_months
from models.domain.operations import RETENTION_MONTHS
from tasks.settings import get_settings

#: folders under $DRS_HOME whose files are copies of personal data (relative paths)
KEPT_COPIES: tuple[str, ...] = (
    "inbox/referrals/processed",
    "inbox/referrals/rejected",
    "inbox/claims/processed",
    "inbox/claims/rejected",
    "outbox/sent",
    "reports/claims",
)


@dataclass
class FileRetentionSummary:
    older_than: str
    removed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "files_older_than": self.older_than,
            "files_removed": dict(self.removed),
            "file_errors": list(self.errors),
        }


def files_cutoff(today: date) -> date:
    """Files last changed before this day are past the retention period."""
    return add_months(today, -RETENTION_MONTHS)


def held_files(home: Path) -> set[Path]:
    """Files holding personal data of cases on legal hold (never deleted while the hold lasts)."""
    from sqlalchemy import select

    from models.db import Case
    from tasks.db import unit_of_work
    from tasks.privacy.personal_files import case_files

    with unit_of_work() as db:
        held = list(db.scalars(select(Case.id).where(Case.legal_hold_reason.is_not(None))))
        return {p.resolve() for p in case_files(db, held, home)} if held else set()


def _candidates(today: date, home: Path):
    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    cutoff = files_cutoff(today)
    keep = held_files(home)
    for relative in KEPT_COPIES:
        folder = home / relative
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            try:
                changed = datetime.fromtimestamp(path.stat().st_mtime, zone).date()
            except OSError:
                continue
            if changed < cutoff and path.resolve() not in keep:
                yield relative, path


def old_copies(today: date, home: Path | None = None) -> dict:
    """What `remove_old_copies(today)` would delete: counts by folder (a dry run)."""
    home = home or get_settings().home
    counts: dict[str, int] = {}
    for relative, _ in _candidates(today, home):
        counts[relative] = counts.get(relative, 0) + 1
    return {"older_than": files_cutoff(today).isoformat(), "counts": counts}


def remove_old_copies(today: date, home: Path | None = None) -> FileRetentionSummary:
    """Delete files in `KEPT_COPIES` last modified before `files_cutoff(today)` (local dates).

    Never raises for one file: a file that cannot be removed is reported by folder and name only
    (file names hold form ids, claim ids and case references, not personal details)."""
    home = home or get_settings().home
    summary = FileRetentionSummary(older_than=files_cutoff(today).isoformat())
    for relative, path in _candidates(today, home):
        try:
            path.unlink()
            summary.removed[relative] = summary.removed.get(relative, 0) + 1
        except OSError as exc:
            summary.errors.append(f"{relative}/{path.name}: {exc.strerror or type(exc).__name__}")
    _remove_old_bounces(files_cutoff(today), ZoneInfo(get_settings().timezone), summary)  # issue 15
    return summary


def _remove_old_bounces(cutoff: date, zone: ZoneInfo, summary: FileRetentionSummary) -> None:
    """Issue 15: bounce notices kept in the bounce mailbox's `processed` folder (Maildir or IMAP)
    past the retention period are deleted too; a mailbox that cannot be reached is reported."""
    from datetime import time as time_of_day

    from tasks.bounces.sources import remove_old_processed

    try:
        removed = remove_old_processed(datetime.combine(cutoff, time_of_day(0), zone).timestamp())
    except Exception as exc:  # the mailbox is another system: never stop retention for it
        summary.errors.append(f"bounce mailbox processed folder: {type(exc).__name__}")
        return
    if removed:
        summary.removed["bounces/processed"] = removed

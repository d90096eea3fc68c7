"""Referral files: the referral schema of the one inbox reader (`tasks.intake.inbox`).

Kept for the names the rest of the code and older tests use: `read_records(path)` returns the
`(locator, flat record)` pairs or raises `UnreadableFile`; `claim_inbox(inbox)` returns
`(claimed, skipped)`. Everything else — limits, encodings, claims that belong to a live owner,
refused links and odd entries, filing — lives in `tasks.intake.inbox`.
"""

from __future__ import annotations

from pathlib import Path

from tasks.intake import inbox as _inbox
from tasks.intake.inbox import (  # noqa: F401 — re-exported
    CLAIMED,
    NOT_A_RECORD,
    PROCESSED,
    REFERRALS,
    REJECTED,
    SUFFIXES,
    TEMP_SUFFIXES,
    ClaimedFile,
    UnreadableFile,
    claim_name,
    ensure_folders,
    file_away,
    is_temporary,
    write_rejected,
)
from tasks.intake.inbox import host as _host  # noqa: F401

REQUIRED_COLUMNS = REFERRALS.required


def read_records(path: Path, name: str | None = None, *, follow: bool = True) -> list[tuple[str, dict]]:
    """The records in a referral file as (locator, flat fields); `UnreadableFile` if none can be read."""
    return _inbox.read_records(path, name, schema=REFERRALS, follow=follow).records


def claim_inbox(
    inbox: Path, *, wall: float | None = None, interval: float | None = None
) -> tuple[list[ClaimedFile], list[str]]:
    """(claimed entries, names still being written) — see `tasks.intake.inbox.claim_inbox`."""
    out = _inbox.claim_inbox(inbox, wall=wall, interval=interval)
    return out.claimed, out.skipped


def files_in_folder(folder: Path) -> list[Path]:
    """The files directly in `folder` (explicit paths: not moved, no stability wait)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not is_temporary(p.name))

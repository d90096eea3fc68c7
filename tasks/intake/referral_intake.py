"""Referral intake over files: claim, read, import record by record, file the results away.

`import_referral_files(paths, today=..., now=...)` is the import step of the referral-intake job
(`tasks.intake.job.run`, for `drs intake` and the `referral-intake` flow alike), and returns an
`IntakeOutcome` whose `document()` is the contract's summary.

Where files come from and where they go:
- No paths: every ready file in `$DRS_HOME/inbox/referrals/` is claimed (see
  `tasks.intake.inbox`: stable across two looks, links and odd entries refused), read in
  isolation and imported, then moved to `processed/` (see `tasks.intake.inbox_run`). A file with any
  rejected record also leaves a copy in `rejected/` beside `<name>.errors.json`; a file that
  cannot be read at all — whatever its parser raised — gets the same with the reason for the
  whole file, and the team is told once. A file that changed while it was read goes back to
  the inbox: the next run imports what it did not (form ids make the rest duplicates).
- Paths given explicitly: folders are read one level deep. The inbox folder itself (or a file
  directly in it) is claimed and filed away as above. Anything else is read where it is and
  left there (the user's own file is never moved); its rejected records still get a copy and
  an `.errors.json` in the inbox's `rejected/`. A path that does not exist or cannot be read
  raises `IntakeInputError` before anything is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from models.errors import InvalidInput
from tasks.gc_pauses import fewer_collections
from tasks.intake import inbox as inf
from tasks.intake import referral_files as rf
from tasks.intake.batch import import_records_batched
from tasks.intake.inbox_run import process_claimed, unexpected
from tasks.intake.records import RecordResult
from tasks.intake.summary import IntakeSummary
from tasks.operations import progress
from tasks.settings import get_settings


class IntakeInputError(InvalidInput):
    """An explicit path that does not exist or cannot be read (the command exits 2)."""


@dataclass
class IntakeOutcome:
    """Everything one intake run did. `document()` is exactly the contract's summary."""

    results: list[RecordResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # inbox files still being written

    def summary(self) -> IntakeSummary:
        return IntakeSummary.of(self.results, self.skipped)

    def document(self) -> dict:
        """Exactly the contract's summary (`IntakeSummary.as_dict`)."""
        return self.summary().as_dict()


def inbox_dir() -> Path:
    return get_settings().inbox_dir / "referrals"


def check_paths(paths: Sequence[str | Path]) -> list[Path]:
    """The explicit paths as `Path`s; `IntakeInputError` names the first missing or unreadable one."""
    checked = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise IntakeInputError(f"{raw}: no such file or folder")
        if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            raise IntakeInputError(f"{raw}: cannot be read (permission denied)")
        checked.append(path)
    return checked


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def import_referral_files(
    paths: Sequence[str | Path] | None = None,
    *,
    today: date,
    now: datetime,
    wall: float | None = None,
    interval: float | None = None,
) -> IntakeOutcome:
    """Import referrals from the inbox (no `paths`) or from `paths`. See the module docstring."""
    with fewer_collections():  # no behaviour of its own: CPU time (tasks.gc_pauses)
        return _import_referral_files(paths, today=today, now=now, wall=wall, interval=interval)


def _import_referral_files(
    paths: Sequence[str | Path] | None, *, today: date, now: datetime, wall: float | None, interval: float | None
) -> IntakeOutcome:
    inbox = inbox_dir()
    inf.ensure_folders(inbox)
    outcome = IntakeOutcome()
    explicit = check_paths(paths) if paths else None
    if explicit is None:
        _drain(inbox, outcome, today=today, now=now, wall=wall, interval=interval)
        return outcome
    for path in explicit:
        if path.is_dir() and _same(path, inbox):
            _drain(inbox, outcome, today=today, now=now, wall=wall, interval=interval)
        elif path.is_dir():
            for file in rf.files_in_folder(path):
                _process_in_place(file, str(file), inbox, outcome, today=today, now=now)
        elif _same(path.parent, inbox):
            item = inf.claim_one(path, inbox)
            if item is not None:
                _process_claimed(item, inbox, outcome, today=today, now=now)
        else:
            _process_in_place(path, str(path), inbox, outcome, today=today, now=now)
    return outcome


def _drain(
    inbox: Path, outcome: IntakeOutcome, *, today: date, now: datetime, wall: float | None, interval: float | None
) -> None:
    taken = inf.claim_inbox(inbox, wall=wall, interval=interval)
    outcome.skipped += taken.skipped
    for item in taken.claimed:
        _process_claimed(item, inbox, outcome, today=today, now=now)


def _import_records(
    records: list[tuple[str, dict]], source: str, outcome: IntakeOutcome, *, today: date, now: datetime
) -> list[RecordResult]:
    results = []
    for result in progress.counted(import_records_batched(records, source=source, today=today, now=now), len(records)):
        results.append(result)
        outcome.results.append(result)
    return results


def _rejected_rows(results: list[RecordResult]) -> list[dict]:
    return [{"record": r.locator, "form_id": r.form_id, "errors": r.errors} for r in results if r.status == "rejected"]


def _whole_file(source: str, reason: str, outcome: IntakeOutcome, *, refused: bool = False) -> None:
    summary = "the entry was refused (not a plain file)" if refused else "the file could not be read"
    outcome.results.append(RecordResult(source, None, "rejected", errors=[reason], reasons=[summary]))


def _process_claimed(item: inf.ClaimedFile, inbox: Path, outcome: IntakeOutcome, *, today: date, now: datetime) -> None:
    def import_records(records):
        return _rejected_rows(_import_records(records, item.name, outcome, today=today, now=now))

    done = process_claimed(item, inbox, schema=inf.REFERRALS, now=now, import_records=import_records)
    if done.status in ("unreadable", "refused"):
        _whole_file(item.name, done.reason or "", outcome, refused=done.status == "refused")
    elif done.status == "returned":
        outcome.skipped.append(item.name)


def _process_in_place(
    path: Path, source: str, inbox: Path, outcome: IntakeOutcome, *, today: date, now: datetime
) -> None:
    """A file the user named outside the inbox: read where it is (never moved)."""
    try:
        records = inf.read_records(path, path.name, schema=inf.REFERRALS, follow=True).records
        reason = None
    except inf.UnreadableFile as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 — whatever the parser raised, this file alone fails
        reason = unexpected(exc)
    if reason is not None:
        _whole_file(source, reason, outcome)
        report = {"file": path.name, "readable": False, "error": reason, "records": [], "checked_at": now.isoformat()}
        try:
            if path.is_file():
                rf.write_rejected(path, path.name, inbox, report, follow=True)
        except OSError:  # the file itself cannot be read: the summary already says why
            pass
        return
    results = _import_records(records, source, outcome, today=today, now=now)
    if any(r.status == "rejected" for r in results):
        rf.write_rejected(path, path.name, inbox, _report(path.name, results, now), follow=True)


def _report(name: str, results: list[RecordResult], now: datetime) -> dict:
    from tasks.intake.inbox_run import NOTES

    return {
        "file": name,
        "readable": True,
        "checked_at": now.isoformat(),
        "records": _rejected_rows(results),
        "note": NOTES["referral"],
    }

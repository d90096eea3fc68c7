"""Referral intake over files: claim, read, import record by record, file the results away.

`run_intake(paths, today=..., now=...)` is the whole of `drs intake` and of the `referral-intake`
flow's work, and returns an `IntakeOutcome` whose `document()` is the contract's summary.

Where files come from and where they go:
- No paths: every ready file in `$DRS_HOME/inbox/referrals/` is claimed (see
  `tasks.referral_files`), imported, then moved to `processed/`. A file with any rejected record
  also leaves a copy in `rejected/` beside `<name>.errors.json`; a file that cannot be read at
  all is moved to `rejected/` whole with its `.errors.json`.
- Paths given explicitly: folders are read one level deep. The inbox folder itself (or a file
  directly in it) is claimed and filed away as above. Anything else is read where it is and
  left there (the user's own file is never moved); its rejected records still get a copy and
  an `.errors.json` in the inbox's `rejected/`. A path that does not exist or cannot be read
  raises `IntakeInputError` before anything is imported.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from tasks import referral_files as rf
from tasks import progress
from tasks.intake_records import RecordResult, import_record
from tasks.settings import get_settings


class IntakeInputError(ValueError):
    """An explicit path that does not exist or cannot be read (the command exits 2)."""


@dataclass
class IntakeOutcome:
    """Everything one intake run did. `document()` is exactly the contract's summary."""

    results: list[RecordResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # inbox files still being written

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def outbox_ids(self) -> list[int]:
        return [i for r in self.results for i in r.outbox_ids]

    def document(self) -> dict:
        return {"imported": self.count("imported"), "duplicates": self.count("duplicate"),
                "rejected": self.count("rejected"), "results": [r.as_json() for r in self.results]}

    def artifact_rows(self) -> list[dict[str, str]]:
        """Counts by outcome, rejection reasons and case references — no names, no file names."""
        rows = [{"item": label, "value": str(self.count(status))}
                for label, status in (("imported", "imported"), ("duplicates", "duplicate"), ("rejected", "rejected"))]
        if self.skipped:
            rows.append({"item": "files left for the next run (still being written)", "value": str(len(self.skipped))})
        reasons = Counter(reason for r in self.results if r.status == "rejected" for reason in r.reasons)
        rows += [{"item": f"rejected because: {reason}", "value": str(n)} for reason, n in sorted(reasons.items())]
        new = [r.case_ref for r in self.results if r.status == "imported"]
        linked = sorted({r.case_ref for r in self.results if r.status == "duplicate" and r.case_ref})
        if new:
            rows.append({"item": "new cases", "value": ", ".join(new)})
        if linked:
            rows.append({"item": "existing cases referred again", "value": ", ".join(linked)})
        return rows


def inbox_dir() -> Path:
    return get_settings().inbox_dir / "referrals"


def check_paths(paths: list[str | Path]) -> list[Path]:
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


def run_intake(paths: list[str | Path] | None = None, *, today: date, now: datetime,
               wall: float | None = None) -> IntakeOutcome:
    """Import referrals from the inbox (no `paths`) or from `paths`. See the module docstring."""
    inbox = inbox_dir()
    rf.ensure_folders(inbox)
    outcome = IntakeOutcome()
    explicit = check_paths(paths) if paths else None
    if explicit is None:
        claimed, outcome.skipped = rf.claim_inbox(inbox, wall=wall)
        for item in claimed:
            _process_claimed(item, inbox, outcome, today=today, now=now)
        return outcome
    for path in explicit:
        if path.is_dir() and _same(path, inbox):
            claimed, skipped = rf.claim_inbox(inbox, wall=wall)
            outcome.skipped += skipped
            for item in claimed:
                _process_claimed(item, inbox, outcome, today=today, now=now)
        elif path.is_dir():
            for file in rf.files_in_folder(path):
                _process_in_place(file, str(file), inbox, outcome, today=today, now=now)
        elif _same(path.parent, inbox):
            item = _claim_one(path, inbox)
            if item is not None:
                _process_claimed(item, inbox, outcome, today=today, now=now)
        else:
            _process_in_place(path, str(path), inbox, outcome, today=today, now=now)
    return outcome


def _claim_one(path: Path, inbox: Path) -> rf.ClaimedFile | None:
    """Claim one named file in the inbox (no settle wait: the user asked for it)."""
    target = inbox / rf.CLAIMED / rf.claim_name(path.name, time.time())
    try:
        path.rename(target)
    except FileNotFoundError:  # another run took it
        return None
    return rf.ClaimedFile(path.name, target)


def _import_file(path: Path, name: str, source: str, outcome: IntakeOutcome, *, today: date,
                 now: datetime) -> tuple[list[RecordResult] | None, str | None]:
    """(results, None), or (None, reason) when the file cannot be read at all."""
    try:
        records = rf.read_records(path, name)
    except rf.UnreadableFile as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"the file cannot be read ({exc.strerror or type(exc).__name__})"
    results = [import_record(fields, source=source, locator=locator, today=today, now=now)
               for locator, fields in progress.counted(records)]
    outcome.results += results
    return results, None


def _unreadable(source: str, reason: str, outcome: IntakeOutcome) -> dict:
    outcome.results.append(RecordResult(source, None, "rejected", errors=[reason], reasons=["the file could not be read"]))
    return {"file": Path(source).name, "readable": False, "error": reason, "records": []}


def _report(name: str, results: list[RecordResult], now: datetime) -> dict:
    return {
        "file": name, "readable": True, "checked_at": now.isoformat(),
        "records": [{"record": r.locator, "form_id": r.form_id, "errors": r.errors}
                    for r in results if r.status == "rejected"],
        "note": "Only the records listed here were rejected; the others were imported. Correct these "
                "records and drop the file in the inbox again: records already imported are recognised "
                "by their form_id and not imported twice.",
    }


def _process_claimed(item: rf.ClaimedFile, inbox: Path, outcome: IntakeOutcome, *, today: date, now: datetime) -> None:
    results, reason = _import_file(item.path, item.name, item.name, outcome, today=today, now=now)
    if results is None:
        report = _unreadable(item.name, reason, outcome) | {"checked_at": now.isoformat()}
        rf.write_rejected(item.path, item.name, inbox, report)  # a copy, like any rejected record
        rf.file_away(item, inbox, rejected_whole=False)  # every file taken ends in processed/
        return
    if any(r.status == "rejected" for r in results):
        rf.write_rejected(item.path, item.name, inbox, _report(item.name, results, now))
    rf.file_away(item, inbox, rejected_whole=False)


def _process_in_place(path: Path, source: str, inbox: Path, outcome: IntakeOutcome, *, today: date, now: datetime) -> None:
    results, reason = _import_file(path, path.name, source, outcome, today=today, now=now)
    if results is None:
        report = _unreadable(source, reason, outcome) | {"checked_at": now.isoformat()}
        try:
            rf.write_rejected(path, path.name, inbox, report)
        except OSError:  # the file itself cannot be read: the summary already says why
            pass
        return
    if any(r.status == "rejected" for r in results):
        rf.write_rejected(path, path.name, inbox, _report(path.name, results, now))

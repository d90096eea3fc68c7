"""Expense claims in: import claim files, check each claim against its LA's policy, tell the family.

A claim belongs to a case and to a mediation session of that case that took place on the claim's
`session_date` (status `held`, or `scheduled` with its start already past; never `cancelled`).
The claimant must be the case's requester or a supporter recorded on the case's sessions
(`SessionAttendee.role == "supporter"`), matched by email (by name when no email is given).

Outcomes per record (`ImportSummary.results[].status`):
- `approved` / `query` / `held` / `rejected` — stored, decided by `models.domain.expenses.check_claim`;
  `query` and `rejected` email the family (outbox) in plain words; `held` waits for an admin
  (`decide_held_claim`, the flow's pause-for-input form, or `drs claims decide`).
- `duplicate` — the same `claim_id` again: nothing changes. A claim still in `query` (or
  `pending`) is re-checked when it comes back with changed details (e.g. receipt now `yes`).
- `invalid`  — the record cannot be stored (unknown case, bad date, …); `errors` say why.

Each record is its own transaction (the claim and its email commit together). No Prefect here.

Where the parts are: a record's fields `tasks.claims.records`; one record stored
`tasks.claims.storing`; the policy check on a stored claim `tasks.claims.checking`; the family's
emails `tasks.claims.family`; pending and held claims `tasks.claims.held`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tasks.claims.family import FAMILY_HEADINGS, tell_family
from tasks.claims.files import SUFFIXES, text
from tasks.claims.held import ClaimError, decide_held_claim, held_claims, recheck_pending
from tasks.claims.storing import import_record, result_line
from tasks.settings import get_settings

#: the names other modules have long imported from here
__all__ = [
    "FAMILY_HEADINGS",
    "ClaimError",
    "ImportSummary",
    "claim_files",
    "decide_held_claim",
    "held_claims",
    "import_claims",
    "import_record",
    "recheck_pending",
    "tell_family",
]


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    approved: int = 0
    query: int = 0
    held: int = 0
    rejected: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_files(paths: list[Path]) -> list[Path]:
    """The claim files named: folders give their claim files (read where they are, never moved)."""
    out = []
    for path in paths:
        if path.is_dir():
            out += [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in SUFFIXES]
        else:
            out.append(path)
    return out


def _count(summary: ImportSummary, result: dict[str, Any]) -> None:
    summary.results.append(result)
    status = result["status"]
    if status == "invalid":
        summary.invalid += 1
    elif status == "duplicate":
        summary.duplicates += 1
    else:
        if result.get("new"):
            summary.imported += 1
        else:
            summary.updated += 1
        setattr(summary, status, getattr(summary, status) + 1)


def _import_one(raw: dict[str, Any], source: str, today: date, now: datetime) -> dict[str, Any]:
    """One record's result line; never raises (one bad record never stops the others)."""
    from tasks.intake.inbox import NOT_A_RECORD

    if NOT_A_RECORD in raw:
        return result_line(source, None, "invalid", None, errors=[raw[NOT_A_RECORD]])
    try:
        return import_record(raw, source, today, now)
    except Exception as exc:  # noqa: BLE001 — no personal data: the type only
        import logging

        logging.getLogger(__name__).error("a claim record could not be imported: %s", type(exc).__name__)
        return result_line(
            source,
            text(raw.get("claim_id")) if isinstance(raw, dict) else None,
            "invalid",
            None,
            errors=["could not be imported because of an internal error; give the file again"],
        )


def _import_records(
    records: list[tuple[str, dict]], source: str, summary: ImportSummary, today: date, now: datetime
) -> list[dict[str, Any]]:
    """Import each record; returns the rows for the rejected-records report."""
    rejected = []
    for locator, raw in records:
        result = _import_one(raw, source, today, now)
        _count(summary, result)
        if result["status"] == "invalid":
            rejected.append({"record": locator, "claim_id": result["claim_id"], "errors": result["errors"]})
    return rejected


def _unreadable(summary: ImportSummary, source: str, reason: str) -> None:
    _count(summary, result_line(source, None, "invalid", None, errors=[f"{source}: {reason}"]))


def import_claims(paths: list[str | Path] | None, today: date, now: datetime) -> dict[str, Any]:
    """Import claim files (default: `$DRS_HOME/inbox/claims/`, taken and filed exactly like referral
    files — `tasks.intake.inbox` / `tasks.intake.inbox_run`: stable files only, links refused, each file in
    isolation, `processed/` and `rejected/` with `<name>.errors.json`, the team told once about a
    file that cannot be read). Named paths are read where they are and never moved.

    Returns the summary as a plain dict. A file that cannot be read is reported as one
    `invalid` result; it never stops the others.
    """
    from tasks.intake import inbox as inf
    from tasks.intake.inbox_run import process_claimed, unexpected

    summary = ImportSummary()
    inbox = get_settings().inbox_dir / "claims"

    def take(item: inf.ClaimedFile) -> None:
        done = process_claimed(
            item,
            inbox,
            schema=inf.CLAIMS,
            now=now,
            import_records=lambda records: _import_records(records, item.name, summary, today, now),
        )
        if done.status in ("unreadable", "refused"):
            _unreadable(summary, item.name, done.reason or "")

    def same(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve()
        except OSError:
            return False

    named = [Path(p) for p in paths or []]
    if not named or any(same(p, inbox) for p in named):  # the inbox: claimed and filed away
        for item in inf.claim_inbox(inbox).claimed:
            take(item)
    in_inbox = [p for p in named if not same(p, inbox) and same(p.parent, inbox)]
    for path in in_inbox:  # a file of the inbox named: claimed now (no stability wait)
        one = inf.claim_one(path, inbox)
        if one is not None:
            take(one)
    for path in claim_files([p for p in named if not same(p, inbox) and p not in in_inbox]):
        try:
            records = inf.read_records(path, path.name, schema=inf.CLAIMS, follow=True).records
        except inf.UnreadableFile as exc:
            _unreadable(summary, path.name, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 — whatever the parser raised, this file alone fails
            _unreadable(summary, path.name, unexpected(exc))
            continue
        _import_records(records, path.name, summary, today, now)
    return summary.as_dict()

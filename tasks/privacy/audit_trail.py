"""The audit trail: who (a person), did what, to which case, when (effective and real time).

Every `tasks.cases.casework.audit()` line records:
- `at`: the effective time of the change (`--now`, which may be back-dated);
- `recorded_at`: the real wall-clock time the line was written (never back-dated);
- `actor`: the channel (`cli:case-event`, `dashboard`, `flow:deadline-monitor`, ...);
- `operator`: the person — the dashboard form's "your name", else `DRS_OPERATOR`, else the
  operating-system user running the command or the scheduler.

The log is append-only: nothing in the code updates or deletes a line, and a database trigger
(migration 0014) refuses UPDATE and DELETE on `audit_log`. Lines hold references, ids and codes
only — never names, addresses or dates of birth — so they never need anonymising.
"""

from __future__ import annotations

import getpass
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import AuditEntry, Case

_operator: ContextVar[str | None] = ContextVar("drs_operator", default=None)


def wall_clock() -> datetime:
    """The real time now (UTC). The one place the audit trail reads the clock, on purpose."""
    return datetime.now(UTC)


def set_operator(name: str | None) -> str | None:
    """Name the person acting in this context (a dashboard form's "your name"); returns it cleaned."""
    cleaned = " ".join((name or "").split())[:120] or None
    _operator.set(cleaned)
    return cleaned


def require_operator(name: str | None) -> str:
    """For the dashboard's run forms: "your name" must be given; it is recorded on every audit line."""
    cleaned = set_operator(name)
    if not cleaned:
        raise ValueError("your_name is required: type your name so the audit trail shows who did this")
    return cleaned


def current_operator() -> str:
    """The person acting: the form's name, else DRS_OPERATOR, else the OS user."""
    named = _operator.get()
    if named:
        return named
    from tasks.settings import get_settings

    env = (get_settings().operator or "").strip()
    if env:
        return env[:120]
    try:
        return getpass.getuser()[:120]
    except Exception:  # no user name in this environment
        return "unknown"


def log_read(
    db: Session, what: str, case_id: int | None, now: datetime, detail: dict | None = None, *, actor: str = "cli"
) -> None:
    """Audit that personal data was shown or exported (`read:<what>`). Commits nothing."""
    from tasks.cases.casework import audit

    audit(db, actor, f"read:{what}", case_id, now, detail)


def entry_json(entry: AuditEntry, ref: str | None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat() if entry.recorded_at else None,
        "operator": entry.operator,
        "actor": entry.actor,
        "action": entry.action,
        "case_ref": ref,
        "detail": entry.detail or {},
    }


def read_audit(
    db: Session, *, case_id: int | None = None, since: date | None = None, tz=UTC, limit: int | None = None
) -> list[dict[str, Any]]:
    """Audit lines, oldest first: of one case (`case_id`), from the day `since` on (by recorded time,
    falling back to the effective time for lines older than migration 0014)."""
    stmt = select(AuditEntry, Case.ref).outerjoin(Case, Case.id == AuditEntry.case_id).order_by(AuditEntry.id)
    if case_id is not None:
        stmt = stmt.where(AuditEntry.case_id == case_id)
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=tz)
        stmt = stmt.where(
            (AuditEntry.recorded_at >= start) | (AuditEntry.recorded_at.is_(None) & (AuditEntry.at >= start))
        )
    if limit:
        stmt = stmt.limit(limit)
    return [entry_json(entry, ref) for entry, ref in db.execute(stmt)]

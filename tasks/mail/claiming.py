"""Claiming outbox rows for one delivery call, and giving back the claims of one that stopped.

Rows are claimed (`status='sending'`, `claimed_by`) in a short transaction first — `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so several workers never take the same row. A claim is taken back
when its worker is a process of this machine that no longer runs (killed), or, for any worker,
when it is older than `STALE_CLAIM`.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.operations.processes import pid_alive

STALE_CLAIM = timedelta(minutes=15)


def _host() -> str:
    return socket.gethostname()[:40]


def worker_name() -> str:
    """A name unique to one delivery call (host, process and a random part): two deliveries in
    the same process — a background task and the sweep — must not mistake each other's claims."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimer_dead(worker: str | None) -> bool:
    """True when `worker` names a process of this machine that is no longer running."""
    host_pid = (worker or "").rpartition(":")[0]
    host, _, pid = host_pid.rpartition(":")
    if host != _host() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not pid_alive(int(pid))


def take_back_dead_claims(db) -> int:
    """Rows left in `sending` by a delivery process of this machine that was killed go back to
    `pending` at once, not charged (the one it was sending may have arrived: the retry carries the
    same Message-ID). Returns how many. Commits nothing."""
    claimers = set(db.scalars(select(OutboxEmail.claimed_by).where(OutboxEmail.status == "sending").distinct()))
    dead = sorted(w for w in claimers if _claimer_dead(w))
    if not dead:
        return 0
    result = db.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == "sending", OutboxEmail.claimed_by.in_(dead))
        .values(
            status="pending",
            claimed_by=None,
            last_error="taken back from a delivery process that stopped (outcome unknown)",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def due_condition(now: datetime, retry_waiting: bool = False) -> ColumnElement[bool]:
    """The SQL condition "due at `now`" (the one definition the sweep and the tasks share)."""
    # A fresh email with no hold is due at once, even when `now` is earlier than the (possibly
    # `--today`-based) time it was queued at; retries and quiet-hours holds wait for their time.
    # `retry_waiting` (a person running `drs mail deliver`: "deliver now") also takes retries still
    # waiting for their back-off — the relay may just have been fixed — but never a quiet-hours hold.
    ready = [OutboxEmail.next_attempt_at <= now, and_(OutboxEmail.attempts == 0, OutboxEmail.not_before.is_(None))]
    if retry_waiting:
        ready.append(
            and_(OutboxEmail.attempts > 0, or_(OutboxEmail.not_before.is_(None), OutboxEmail.not_before <= now))
        )
    return or_(
        and_(OutboxEmail.status == "pending", or_(*ready)),
        and_(OutboxEmail.status == "sending", OutboxEmail.claimed_at < now - STALE_CLAIM),
    )


def claim_due(
    now: datetime,
    limit: int,
    worker: str,
    ids: list[int] | None = None,
    *,
    retry_waiting: bool = False,
    exclude: set[int] | None = None,
) -> list[int]:
    """Claim up to `limit` due rows (or just `ids`, if still due) for `worker`; returns their ids.
    `retry_waiting`: retries waiting for their back-off count as due (see `due_condition`); `exclude`: ids
    not to claim (those already tried in this run).

    The claim is a conditional UPDATE (still due at write time), so two workers never both
    claim a row — on SQLite, whose writers are serialised, as on PostgreSQL, where candidates
    are picked with `FOR UPDATE SKIP LOCKED` first.
    """
    with unit_of_work() as db:
        if take_back_dead_claims(db):
            db.commit()
        due = due_condition(now, retry_waiting)
        stmt = select(OutboxEmail.id).where(due).order_by(OutboxEmail.id).limit(limit)
        if ids is not None:
            stmt = stmt.where(OutboxEmail.id.in_(ids))
        if exclude:
            stmt = stmt.where(OutboxEmail.id.notin_(sorted(exclude)))
        if db.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        candidates = list(db.scalars(stmt).all())
        if not candidates:
            return []
        db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(candidates), due)
            .values(status="sending", claimed_at=now, claimed_by=worker)
            .execution_options(synchronize_session=False)
        )
        claimed = db.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.id.in_(candidates), OutboxEmail.claimed_by == worker, OutboxEmail.status == "sending")
            .order_by(OutboxEmail.id)
        ).all()
        db.commit()
        return list(claimed)


def release(ids: list[int], worker: str) -> None:
    """Rows of this batch still in `sending` (the run stopped early): back to `pending`, uncharged."""
    if not ids:
        return
    try:
        with unit_of_work() as db:
            db.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id.in_(ids), OutboxEmail.claimed_by == worker, OutboxEmail.status == "sending")
                .values(status="pending", claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            db.commit()
    except Exception:  # noqa: BLE001 — the database itself failed: stale claims are taken back later
        pass

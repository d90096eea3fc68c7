"""Deliver the outbox: claim due rows, send each through the configured `Mailer`, record the result.

The database is the source of truth. Rows are claimed (`status='sending'`, `claimed_by`) in a
short transaction first — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take
the same row — then sent one by one, each result committed at once. A failure is recorded with
its reason and attempt count and retried with back-off; after `MAX_ATTEMPTS` the row is `failed`
and the team is told. A claim older than `STALE_CLAIM` (a crashed worker) is taken again.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.mailer import Mailer, OutgoingAttachment, OutgoingEmail, mailer_from_settings
from tasks.outbox import queue_email
from tasks.settings import get_settings

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
STALE_CLAIM = timedelta(minutes=15)


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    remaining: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1` (1, 5, 15, 60, 240 minutes, then 240)."""
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due(now: datetime):
    return or_(
        and_(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now),
        and_(OutboxEmail.status == "sending", OutboxEmail.claimed_at < now - STALE_CLAIM),
    )


def claim_due(now: datetime, limit: int, worker: str, ids: list[int] | None = None) -> list[int]:
    """Claim up to `limit` due rows (or just `ids`, if still due) for `worker`; returns their ids."""
    with unit_of_work() as db:
        stmt = select(OutboxEmail).where(_due(now)).order_by(OutboxEmail.id).limit(limit)
        if ids is not None:
            stmt = stmt.where(OutboxEmail.id.in_(ids))
        if db.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = db.scalars(stmt).all()
        for row in rows:
            row.status, row.claimed_at, row.claimed_by = "sending", now, worker
        db.commit()
        return [row.id for row in rows]


def _outgoing(row: OutboxEmail) -> OutgoingEmail:
    return OutgoingEmail(
        to=row.to_addr, subject=row.subject, text=row.body_text, html=row.body_html, message_key=row.key,
        attachments=tuple(OutgoingAttachment(a.filename, a.mime_type, a.content) for a in row.attachments),
    )


def deliver_ids(ids: list[int], now: datetime, mailer: Mailer | None = None, worker: str | None = None) -> DeliverySummary:
    """Send the claimed rows `ids`; each outcome is committed as soon as it is known."""
    settings = get_settings()
    mailer = mailer or mailer_from_settings(settings)
    worker = worker or worker_name()
    pause = 60.0 / settings.smtp_rate_per_minute if settings.smtp_rate_per_minute else 0.0
    summary = DeliverySummary()
    try:
        for n, email_id in enumerate(ids):
            with unit_of_work() as db:
                row = db.get(OutboxEmail, email_id)
                if row is None or row.status != "sending" or row.claimed_by != worker:
                    continue
                if n and pause:
                    time.sleep(pause)
                try:
                    mailer.send(_outgoing(row))
                except Exception as exc:  # every transport error is recorded, none is lost
                    mailer.close()
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                    row.claimed_by = None
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = "failed"
                        summary.failed += 1
                        _tell_team_of_failure(db, row, now, settings.team_email)
                    else:
                        row.status = "pending"
                        row.next_attempt_at = now + backoff(row.attempts)
                        summary.retrying += 1
                else:
                    row.attempts += 1
                    row.status, row.sent_at, row.last_error = "sent", now, None
                    summary.sent += 1
                db.commit()
    finally:
        mailer.close()
    return summary


def _tell_team_of_failure(db, row: OutboxEmail, now: datetime, team: str) -> None:
    if row.to_addr.lower() == team.lower():
        return
    ref = f" for case {row.case_id}" if row.case_id else ""
    queue_email(
        db, key=f"delivery-failed:{row.id}", kind="delivery-failed", to=team, now=now,
        subject=f"An email could not be delivered (outbox #{row.id})",
        text=(f"Outbox email #{row.id} ({row.kind}){ref} could not be delivered after {row.attempts} attempts.\n"
              f"Last error: {row.last_error}\n\nPlease check the address and the mail relay, then retry it."),
        case_id=row.case_id,
    )


def deliver_pending(now: datetime, *, limit: int = 500, mailer: Mailer | None = None) -> DeliverySummary:
    """Deliver everything due at `now` (in batches of `limit`) in this process; returns the counts."""
    worker = worker_name()
    total = DeliverySummary()
    while True:
        ids = claim_due(now, limit, worker)
        if not ids:
            break
        batch = deliver_ids(ids, now, mailer=mailer, worker=worker)
        total.sent += batch.sent
        total.retrying += batch.retrying
        total.failed += batch.failed
        if batch.sent == 0:
            break
    with unit_of_work() as db:
        total.remaining = len(db.scalars(select(OutboxEmail.id).where(OutboxEmail.status.in_(("pending", "sending")))).all())
    return total

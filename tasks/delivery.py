"""Deliver the outbox: claim due rows, send each through the configured `Mailer`, record the result.

The database is the source of truth. Rows are claimed (`status='sending'`, `claimed_by`) in a
short transaction first — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take
the same row — then sent one by one, each result committed at once. A failure is recorded with
its reason and attempt count and retried with back-off; after `MAX_ATTEMPTS` the row is `failed`
and the team is told. A claim older than `STALE_CLAIM` (a crashed worker) is taken again.
"""
from __future__ import annotations

import os
import smtplib
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from models.db import Case, OutboxEmail
from tasks import progress
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
    """A name unique to one delivery call (host, process and a random part): two deliveries in
    the same process — a background task and the sweep — must not mistake each other's claims."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _due(now: datetime, retry_waiting: bool = False):
    # A fresh email with no hold is due at once, even when `now` is earlier than the (possibly
    # `--today`-based) time it was queued at; retries and quiet-hours holds wait for their time.
    # `retry_waiting` (a person running `drs mail deliver`: "deliver now") also takes retries still
    # waiting for their back-off — the relay may just have been fixed — but never a quiet-hours hold.
    ready = [OutboxEmail.next_attempt_at <= now,
             and_(OutboxEmail.attempts == 0, OutboxEmail.not_before.is_(None))]
    if retry_waiting:
        ready.append(and_(OutboxEmail.attempts > 0,
                          or_(OutboxEmail.not_before.is_(None), OutboxEmail.not_before <= now)))
    return or_(
        and_(OutboxEmail.status == "pending", or_(*ready)),
        and_(OutboxEmail.status == "sending", OutboxEmail.claimed_at < now - STALE_CLAIM),
    )


def claim_due(now: datetime, limit: int, worker: str, ids: list[int] | None = None, *,
              retry_waiting: bool = False, exclude: set[int] | None = None) -> list[int]:
    """Claim up to `limit` due rows (or just `ids`, if still due) for `worker`; returns their ids.
    `retry_waiting`: retries waiting for their back-off count as due (see `_due`); `exclude`: ids
    not to claim (those already tried in this run).

    The claim is a conditional UPDATE (still due at write time), so two workers never both
    claim a row — on SQLite, whose writers are serialised, as on PostgreSQL, where candidates
    are picked with `FOR UPDATE SKIP LOCKED` first.
    """
    with unit_of_work() as db:
        due = _due(now, retry_waiting)
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
            update(OutboxEmail).where(OutboxEmail.id.in_(candidates), due)
            .values(status="sending", claimed_at=now, claimed_by=worker)
            .execution_options(synchronize_session=False)
        )
        claimed = db.scalars(
            select(OutboxEmail.id).where(OutboxEmail.id.in_(candidates), OutboxEmail.claimed_by == worker,
                                         OutboxEmail.status == "sending").order_by(OutboxEmail.id)
        ).all()
        db.commit()
        return list(claimed)


def _outgoing(row: OutboxEmail) -> OutgoingEmail:
    return OutgoingEmail(
        to=row.to_addr, subject=row.subject, text=row.body_text, html=row.body_html, message_key=row.key,
        attachments=tuple(OutgoingAttachment(a.filename, a.mime_type, a.content) for a in row.attachments),
    )


def _unreachable(exc: Exception) -> bool:
    """A transport failure that will hit every message alike (server down, refused, timed out),
    as opposed to one message or recipient being refused."""
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)


def deliver_ids(ids: list[int], now: datetime, mailer: Mailer | None = None, worker: str | None = None) -> DeliverySummary:
    """Send the rows `ids` claimed by `worker` (without `worker`: claim those still due first);
    each outcome is committed as soon as it is known. Once the server proves unreachable the
    rest of the batch is not tried: each row records the same error and waits for its back-off."""
    settings = get_settings()
    if worker is None:
        worker = worker_name()
        ids = claim_due(now, len(ids), worker, ids=list(ids))
    mailer = mailer or mailer_from_settings(settings)
    pause = 60.0 / settings.smtp_rate_per_minute if settings.smtp_rate_per_minute else 0.0
    summary = DeliverySummary()
    down: str | None = None
    try:
        for n, email_id in enumerate(progress.counted(ids)):
            with unit_of_work() as db:
                row = db.get(OutboxEmail, email_id)
                if row is None or row.status != "sending" or row.claimed_by != worker:
                    continue
                error = down
                if error is None:
                    if n and pause:
                        time.sleep(pause)
                    try:
                        mailer.send(_outgoing(row))
                    except Exception as exc:  # every transport error is recorded, none is lost
                        mailer.close()
                        error = f"{type(exc).__name__}: {exc}"[:1000]
                        if _unreachable(exc):
                            down = error
                row.attempts += 1
                row.claimed_by = None
                if error is None:
                    row.status, row.sent_at, row.last_error = "sent", now, None
                    summary.sent += 1
                elif row.attempts >= MAX_ATTEMPTS:
                    row.status, row.last_error = "failed", error
                    summary.failed += 1
                    _tell_team_of_failure(db, row, now, settings.team_email)
                else:
                    row.status, row.last_error = "pending", error
                    row.next_attempt_at = now + backoff(row.attempts)
                    summary.retrying += 1
                db.commit()
    finally:
        mailer.close()
    return summary


def _tell_team_of_failure(db, row: OutboxEmail, now: datetime, team: str) -> None:
    if row.to_addr.lower() == team.lower():
        return
    case_ref = db.scalar(select(Case.ref).where(Case.id == row.case_id)) if row.case_id else None
    ref = f" for case {case_ref}" if case_ref else ""
    queue_email(
        db, key=f"delivery-failed:{row.id}", kind="delivery-failed", to=team, now=now,
        subject=f"An email could not be delivered (outbox #{row.id})",
        text=(f"Outbox email #{row.id} ({row.kind}){ref} could not be delivered after {row.attempts} attempts.\n"
              f"Last error: {row.last_error}\n\nPlease check the address and the mail relay, then retry it."),
        case_id=row.case_id,
    )


def deliver_pending(now: datetime, *, limit: int = 500, mailer: Mailer | None = None,
                    retry_waiting: bool = False) -> DeliverySummary:
    """Deliver everything due at `now` (in batches of `limit`) in this process; returns the counts.

    `retry_waiting=True` (`drs mail deliver`, a person asking for delivery now) also retries
    emails still waiting for their back-off, each at most once in this run; the scheduled sweep
    leaves them to their time. Quiet-hours holds (`not_before`) are kept either way.
    """
    worker = worker_name()
    total = DeliverySummary()
    tried: set[int] = set()
    while True:
        ids = claim_due(now, limit, worker, retry_waiting=retry_waiting,
                        exclude=tried if retry_waiting else None)
        if not ids:
            break
        tried.update(ids)
        batch = deliver_ids(ids, now, mailer=mailer, worker=worker)
        total.sent += batch.sent
        total.retrying += batch.retrying
        total.failed += batch.failed
        if batch.sent == 0:
            break
    with unit_of_work() as db:
        total.remaining = len(db.scalars(select(OutboxEmail.id).where(OutboxEmail.status.in_(("pending", "sending")))).all())
    return total

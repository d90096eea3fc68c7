"""Deliver the outbox: claim due rows, send each through the configured `Mailer`, record the result.

The database is the source of truth. Rows are claimed (`status='sending'`, `claimed_by`) in a
short transaction first — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take
the same row — then sent one by one, each outcome committed at once. Outcomes are classified per
message (`tasks.mail.mailer`): sent; the server unreachable before the message was tried (not charged,
the rest of the run not tried, all stay due); transient 4xx or a broken transaction (back-off,
retry); a 5xx refusal (failed at once, team told: `tasks.mail.failures.record_rejection`);
handed over but not confirmed (retried with the same stored Message-ID). After `MAX_ATTEMPTS`
charged attempts the row is `failed` and the team is told; `drs mail retry` puts it back.

A claim is taken back when its worker is a process of this machine that no longer runs (killed),
or, for any worker, when it is older than `STALE_CLAIM`.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.mail.attachment import Attachment
from tasks.mail.failures import record_gave_up, record_refused_for_now, record_rejection
from tasks.mail.mailer import (
    PERMANENT,
    SENT,
    TRANSIENT,
    UNKNOWN,
    UNREACHABLE,
    Mailer,
    OutgoingEmail,
    SendOutcome,
    attempt_with,
    mailer_from_settings,
)
from tasks.mail.outbox import new_message_id
from tasks.operations import progress
from tasks.operations.processes import pid_alive
from tasks.settings import get_settings

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
STALE_CLAIM = timedelta(minutes=15)
#: Messages handed over but not confirmed, one after another, before the rest of a batch waits
#: (uncharged) for the next run: a server that hangs after DATA costs a timeout per message.
UNCONFIRMED_IN_A_ROW = 2


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


def _due(now: datetime, retry_waiting: bool = False):
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
    `retry_waiting`: retries waiting for their back-off count as due (see `_due`); `exclude`: ids
    not to claim (those already tried in this run).

    The claim is a conditional UPDATE (still due at write time), so two workers never both
    claim a row — on SQLite, whose writers are serialised, as on PostgreSQL, where candidates
    are picked with `FOR UPDATE SKIP LOCKED` first.
    """
    with unit_of_work() as db:
        if take_back_dead_claims(db):
            db.commit()
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


def _outgoing(row: OutboxEmail) -> OutgoingEmail:
    return OutgoingEmail(
        to=row.to_addr,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        message_key=row.key,
        message_id=row.message_id,
        outbox_id=row.id,
        kind=row.kind,
        attachments=tuple(Attachment(a.filename, a.mime_type, a.content) for a in row.attachments),
    )


def _pause_between_messages(rate_per_minute: int | None) -> float:
    """Seconds to wait between two messages under `DRS_SMTP_RATE_PER_MINUTE` (0 or unset: none)."""
    return 60.0 / rate_per_minute if rate_per_minute and rate_per_minute > 0 else 0.0


def _record(db, row: OutboxEmail, outcome: SendOutcome, now: datetime, summary: DeliverySummary) -> None:
    """Write the outcome of one attempt on `row` (see `tasks.mail.mailer` for the classes)."""
    row.claimed_by = None
    row.outcome = outcome.status
    row.smtp_code, row.enhanced_status = outcome.smtp_code, outcome.enhanced_status
    if outcome.status == UNREACHABLE:  # the server's fault, before this message: no attempt charged
        row.status, row.last_error = "pending", outcome.reason[:1000]
        summary.retrying += 1
        return
    row.attempts += 1
    if outcome.status == SENT:
        row.status, row.sent_at, row.last_error = "sent", now, None
        summary.sent += 1
    elif outcome.status == PERMANENT:
        record_rejection(
            db,
            row,
            smtp_code=outcome.smtp_code,
            enhanced_status=outcome.enhanced_status,
            reason=outcome.reason,
            now=now,
        )
        summary.failed += 1
    elif row.attempts >= MAX_ATTEMPTS:  # transient or unknown, for the last time
        record_gave_up(db, row, reason=outcome.reason, now=now)
        summary.failed += 1
    else:
        row.status, row.last_error = "pending", outcome.reason[:1000]
        row.next_attempt_at = now + backoff(row.attempts)
        summary.retrying += 1
        if outcome.smtp_code and 400 <= outcome.smtp_code < 500 and not outcome.sender_refused:  # recipient: for now
            record_refused_for_now(
                db, row, enhanced_status=outcome.enhanced_status, smtp_code=outcome.smtp_code, now=now
            )
            if row.status == "bounced":  # still refused 3 working days on: a contact problem now
                summary.retrying -= 1
                summary.failed += 1


def deliver_ids(
    ids: list[int], now: datetime, mailer: Mailer | None = None, worker: str | None = None
) -> DeliverySummary:
    """Send the rows `ids` claimed by `worker` (without `worker`: claim those still due first);
    each outcome is committed as soon as it is known. Once the server proves unreachable the
    rest of the batch is not tried and not charged: those rows stay due for the next sweep.
    Whatever happens, no row of the batch is left in `sending`."""
    settings = get_settings()
    if worker is None:
        worker = worker_name()
        ids = claim_due(now, len(ids), worker, ids=list(ids))
    mailer = mailer or mailer_from_settings(settings)
    pause = _pause_between_messages(settings.smtp_rate_per_minute)
    summary = DeliverySummary()
    down: SendOutcome | None = None
    tried = unconfirmed = 0
    try:
        for email_id in progress.counted(ids):
            with unit_of_work() as db:
                row = db.get(OutboxEmail, email_id)
                if row is None or row.status != "sending" or row.claimed_by != worker:
                    continue
                outcome = down
                if outcome is None:
                    if row.message_id is None:  # queued before Message-IDs were stored: fix it first
                        row.message_id = new_message_id(row.key)
                        db.commit()
                    if tried and pause:
                        time.sleep(pause)
                    tried += 1
                    try:
                        outcome = attempt_with(mailer, _outgoing(row))
                    except Exception as exc:  # noqa: BLE001 — a bug building one message must not stop the rest
                        mailer.close()
                        outcome = SendOutcome(TRANSIENT, f"the message could not be sent ({type(exc).__name__})")
                    if outcome.status == UNREACHABLE:
                        down = outcome
                    unconfirmed = unconfirmed + 1 if outcome.status == UNKNOWN else 0
                    if unconfirmed >= UNCONFIRMED_IN_A_ROW:  # a hung server: 30 s each, for every row
                        down = SendOutcome(
                            UNREACHABLE,
                            "the mail server stopped confirming messages; "
                            "this one waits for the next run (not charged)",
                        )
                _record(db, row, outcome, now, summary)
                db.commit()
    finally:
        mailer.close()
        _release(ids, worker)
    return summary


def _release(ids: list[int], worker: str) -> None:
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


def deliver_pending(
    now: datetime, *, limit: int = 500, mailer: Mailer | None = None, retry_waiting: bool = False
) -> DeliverySummary:
    """Deliver everything due at `now` (in batches of `limit`) in this process; returns the counts.

    `retry_waiting=True` (`drs mail deliver`, a person asking for delivery now) also retries
    emails still waiting for their back-off, each at most once in this run; the scheduled sweep
    leaves them to their time. Quiet-hours holds (`not_before`) are kept either way.
    """
    worker = worker_name()
    rate = get_settings().smtp_rate_per_minute
    if rate:  # a throttled batch must end well within STALE_CLAIM, or another host may take it over
        limit = max(1, min(limit, rate * 5))
    total = DeliverySummary()
    tried: set[int] = set()
    while True:
        ids = claim_due(now, limit, worker, retry_waiting=retry_waiting, exclude=tried if retry_waiting else None)
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
        total.remaining = len(
            db.scalars(select(OutboxEmail.id).where(OutboxEmail.status.in_(("pending", "sending")))).all()
        )
    return total

"""Deliver the outbox: claim due rows, send each through the configured `Mailer`, record the result.

The database is the source of truth. Rows are claimed first (`tasks.mail.claiming`: several
workers never take the same row; a dead worker's claims are taken back), then sent one by one,
each outcome committed at once. Outcomes are classified per message (`tasks.mail.mailer`): sent;
the server unreachable before the message was tried (not charged, the rest of the run not tried,
all stay due); transient 4xx or a broken transaction (back-off,
retry); a 5xx refusal (failed at once, team told: `tasks.mail.failures.record_rejection`);
handed over but not confirmed (retried with the same stored Message-ID). After `MAX_ATTEMPTS`
charged attempts the row is `failed` and the team is told; `drs mail retry` puts it back.

`deliver_pending` is the step of the delivery job (`tasks.mail.job.run`: `drs mail deliver` and
the `deliver-email` flow); `deliver_ids` is what the `deliver-outbox-batch` background task runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.mail.attachment import Attachment
from tasks.mail.claiming import claim_due, release, worker_name
from tasks.mail.commits import batch_session, claimed_rows, still_claimed
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
from tasks.operations import progress
from tasks.settings import get_settings

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
#: Messages handed over but not confirmed, one after another, before the rest of a batch waits
#: (uncharged) for the next run: a server that hangs after DATA costs a timeout per message.
UNCONFIRMED_IN_A_ROW = 2


@dataclass
class DeliveryCounts:
    """Counts kept while delivering (the job's typed result is `tasks.mail.job.DeliverySummary`)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    remaining: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1` (1, 5, 15, 60, 240 minutes, then 240)."""
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


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


def _record(db, row: OutboxEmail, outcome: SendOutcome, now: datetime, summary: DeliveryCounts) -> None:
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


@dataclass
class _Sender:
    """Sends the rows of one batch in turn, remembering what the server did so far."""

    mailer: Mailer
    pause: float
    down: SendOutcome | None = None  # once set, every later row gets this outcome, untried
    tried: int = 0
    unconfirmed: int = 0  # handed over but not confirmed, in a row

    def outcome_for(self, row: OutboxEmail) -> SendOutcome:
        if self.down is not None:
            return self.down
        if self.tried and self.pause:
            time.sleep(self.pause)
        self.tried += 1
        try:
            outcome = attempt_with(self.mailer, _outgoing(row))
        except Exception as exc:  # noqa: BLE001 — a bug building one message must not stop the rest
            self.mailer.close()
            outcome = SendOutcome(TRANSIENT, f"the message could not be sent ({type(exc).__name__})")
        if outcome.status == UNREACHABLE:
            self.down = outcome
        self.unconfirmed = self.unconfirmed + 1 if outcome.status == UNKNOWN else 0
        if self.unconfirmed >= UNCONFIRMED_IN_A_ROW:  # a hung server: 30 s each, for every row
            self.down = SendOutcome(
                UNREACHABLE,
                "the mail server stopped confirming messages; this one waits for the next run (not charged)",
            )
        return outcome


def deliver_ids(
    ids: list[int], now: datetime, mailer: Mailer | None = None, worker: str | None = None
) -> DeliveryCounts:
    """Send the rows `ids` claimed by `worker` (without `worker`: claim those still due first);
    each outcome is committed as soon as it is known. Once the server proves unreachable the
    rest of the batch is not tried and not charged: those rows stay due for the next sweep.
    Whatever happens, no row of the batch is left in `sending`.

    One session for the batch: its rows (with attachments) are read in one query, then each
    outcome is one small commit, written before the next message is sent (`batch_session`:
    durable once the call returns, even if this process is killed; see `tasks.mail.commits`)."""
    settings = get_settings()
    if worker is None:
        worker = worker_name()
        ids = claim_due(now, len(ids), worker, ids=list(ids))
    sender = _Sender(mailer or mailer_from_settings(settings), _pause_between_messages(settings.smtp_rate_per_minute))
    summary = DeliveryCounts()
    try:
        with batch_session() as db:
            rows = claimed_rows(db, ids, worker)
            for row in progress.counted(rows):
                if not still_claimed(db, row.id, worker):  # taken over as stale by another worker meanwhile
                    continue
                _record(db, row, sender.outcome_for(row), now, summary)
                db.commit()
    finally:
        sender.mailer.close()
        release(ids, worker)
    return summary


def count_unsent() -> int:
    """Emails still waiting in the outbox (pending or being sent)."""
    with unit_of_work() as db:
        return db.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.status.in_(("pending", "sending")))) or 0


def deliver_pending(
    now: datetime, *, limit: int = 500, mailer: Mailer | None = None, retry_waiting: bool = False
) -> DeliveryCounts:
    """Deliver everything due at `now` (in batches of `limit`) in this process; returns the counts.

    `retry_waiting=True` (`drs mail deliver`, a person asking for delivery now) also retries
    emails still waiting for their back-off, each at most once in this run; the scheduled sweep
    leaves them to their time. Quiet-hours holds (`not_before`) are kept either way.
    """
    worker = worker_name()
    rate = get_settings().smtp_rate_per_minute
    if rate:  # a throttled batch must end well within `claiming.STALE_CLAIM`, or another host may take it over
        limit = max(1, min(limit, rate * 5))
    total = DeliveryCounts()
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
    total.remaining = count_unsent()
    return total

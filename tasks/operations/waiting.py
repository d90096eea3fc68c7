"""What is waiting for a job right now: the cheap checks `drs serve` makes every minute.

- `referral_files_waiting(inbox)`: files in the referrals inbox a `referral-intake` run would take
  (a directory listing, nothing read);
- `outbox_waiting(now)`: ids of outbox rows due now that no background task is about to send —
  retries whose back-off is over, quiet-hours holds that have ended, mail queued by a command run
  without a server, rows whose background task was lost, stale claims.

No Prefect import: `cli.watch` decides what to start from these answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, not_, select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.intake.referral_files import CLAIMED, is_temporary
from tasks.mail.claiming import due_condition  # the one definition of "due" the sweep and the tasks share

#: A fresh email (never tried, no hold) younger than this has its own background task on the way.
FRESH = timedelta(seconds=60)


def referral_files_waiting(inbox: Path) -> int:
    """How many referral files sit in `inbox` (or in its claim folder, from a crashed run)."""
    count = 0
    for folder in (inbox, inbox / CLAIMED):
        try:
            count += sum(1 for p in folder.iterdir() if p.is_file() and not is_temporary(p.name))
        except FileNotFoundError:
            continue
    return count


def outbox_waiting(now: datetime, limit: int = 500) -> list[int]:
    """Ids (oldest first, at most `limit`) of outbox rows due at `now`, leaving out fresh emails
    whose background task was queued with them less than `FRESH` ago."""
    fresh = and_(
        OutboxEmail.attempts == 0,
        OutboxEmail.not_before.is_(None),
        OutboxEmail.status == "pending",
        OutboxEmail.created_at > now - FRESH,
    )
    with unit_of_work() as db:
        rows = db.execute(
            select(OutboxEmail.id).where(due_condition(now), not_(fresh)).order_by(OutboxEmail.id).limit(limit)
        )
        return [row[0] for row in rows]

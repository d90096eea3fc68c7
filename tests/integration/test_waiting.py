"""What `drs serve`'s minute watch sees: due email no background task is about to send, and
referral files waiting in the inbox (real databases, real folders)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _queue(key: str, now: datetime, **kw) -> int:
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        row = queue_email(db, key=key, kind="test", to="team@service.example.org", subject="s", text="t", now=now, **kw)
        db.commit()
        return row.id


def test_outbox_waiting_leaves_fresh_mail_to_its_background_task(drs_env):
    from models.db import OutboxEmail
    from tasks.db import unit_of_work
    from tasks.operations.waiting import outbox_waiting

    fresh = _queue("fresh", NOW - timedelta(seconds=10))
    orphan = _queue("orphan", NOW - timedelta(minutes=5))  # its background task was lost
    held = _queue("held", NOW - timedelta(hours=2), not_before=NOW + timedelta(hours=1))
    held_over = _queue("held-over", NOW - timedelta(hours=9), not_before=NOW - timedelta(minutes=1))
    retry = _queue("retry", NOW - timedelta(hours=1))
    backing_off = _queue("backing-off", NOW - timedelta(hours=1))
    with unit_of_work() as db:
        db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == retry)
            .values(attempts=1, next_attempt_at=NOW - timedelta(seconds=30))
        )
        db.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == backing_off)
            .values(attempts=2, next_attempt_at=NOW + timedelta(minutes=4))
        )
        db.commit()
    waiting = outbox_waiting(NOW)
    assert orphan in waiting and retry in waiting and held_over in waiting
    assert fresh not in waiting and held not in waiting and backing_off not in waiting
    # a minute later the fresh one has had its chance: the watch hands it over
    assert fresh in outbox_waiting(NOW + timedelta(seconds=61))


def test_referral_files_waiting_counts_ready_and_abandoned_files_only(drs_env):
    from tasks.intake.referral_files import CLAIMED, ensure_folders
    from tasks.intake.referral_intake import inbox_dir
    from tasks.operations.waiting import referral_files_waiting

    inbox = inbox_dir()
    assert referral_files_waiting(inbox) == 0  # no folder yet
    ensure_folders(inbox)
    (inbox / "processed" / "old.json").write_text("[]")
    (inbox / ".part.json").write_text("[]")
    assert referral_files_waiting(inbox) == 0
    (inbox / "form-1.json").write_text("[]")
    (inbox / CLAIMED / "1.2.host__form-2.csv").write_text("x")
    assert referral_files_waiting(inbox) == 2


def test_the_watch_hands_waiting_mail_to_background_delivery(drs_env, monkeypatch):
    import flows.delivery
    from cli import watch

    queued: list[list[int]] = []
    monkeypatch.setattr(flows.delivery, "enqueue_delivery", lambda ids: queued.append(list(ids)) or 1)
    orphan = _queue("orphan", datetime.now(UTC) - timedelta(minutes=5))
    assert asyncio.run(watch.check_outbox()) == 1
    assert queued == [[orphan]]

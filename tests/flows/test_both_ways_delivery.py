"""The email-delivery job run both ways — `drs mail deliver` with no Prefect server (the
orchestrator with plain calls) and the `deliver-email` flow — on the same outbox, delivered to a
real SMTP server: same summary, same rows in every table, same messages received (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways

pytestmark = pytest.mark.flow

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
#: Not decided by the job's data: the wall-clock time an audit line was written.
IGNORED = DEFAULT_IGNORED | {"recorded_at"}


@pytest.fixture
def outbox(drs_env, las):
    """Two emails due now, one waiting for its back-off after a failure, one held for quiet hours."""
    from models.db import OutboxEmail
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        for n in (1, 2):
            queue_email(
                db, key=f"bw-{n}", kind="test", to=f"person{n}@families.example", subject="Hi", text="x", now=NOW
            )
        waiting = queue_email(db, key="bw-3", kind="test", to="la@la.example", subject="Again", text="y", now=NOW)
        queue_email(
            db, key="bw-4", kind="test", to="late@families.example", subject="Later", text="z", now=NOW,
            not_before=NOW + timedelta(hours=10),
        )  # fmt: skip
        db.flush()
        assert isinstance(waiting, OutboxEmail)
        waiting.attempts, waiting.next_attempt_at = 1, NOW + timedelta(minutes=5)
        db.commit()


def _received(box) -> list[str]:
    taken = sorted(m["To"] for m in box.messages)
    box.messages.clear()
    return taken


def test_delivery_both_ways_leaves_the_same_summary_rows_and_messages(prefect_harness, outbox, smtp_server, drs_env):
    from flows.delivery import deliver_email
    from tasks.mail import job

    received = {}

    def direct():
        summary = job.run(None, NOW, retry_waiting=True)  # what `drs mail deliver` runs without a server
        received["direct"] = _received(smtp_server)
        return summary

    def flowed():
        summary = deliver_email(now=NOW, retry_waiting=True)
        received["flowed"] = _received(smtp_server)
        return summary

    one, other = both_ways(drs_env, direct, flowed, ignore=IGNORED)

    assert one.summary.skipped == ()  # the flow adds nothing the direct path lacks
    assert one.summary.as_dict() == other.summary == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 1}
    for name in one.tables:
        assert one.tables[name] == other.tables[name], name
    assert one.files == other.files
    assert (
        received["direct"]
        == received["flowed"]
        == [
            "la@la.example",
            "person1@families.example",
            "person2@families.example",
        ]
    )


def test_the_scheduled_sweep_leaves_back_off_alone_both_ways(prefect_harness, outbox, smtp_server, drs_env):
    from flows.delivery import deliver_email
    from tasks.mail import job

    one, other = both_ways(
        drs_env, lambda: job.run(None, NOW), lambda: deliver_email(now=NOW), ignore=IGNORED
    )  # fmt: skip
    assert one.summary.as_dict() == other.summary == {"sent": 2, "retrying": 0, "failed": 0, "remaining": 2}
    assert one.tables == other.tables

"""The watchdog run both ways on the same data — its orchestrator with plain calls and the Prefect
flow — finds the same problems, emails the team the same (once a day per problem), leaves the
same rows and files, and counts the same Today screen (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.both_ways import both_ways

pytestmark = pytest.mark.flow
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # a Thursday, after 09:00


def _stuck_outbox() -> None:
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        queue_email(
            db,
            key="stuck",
            kind="test",
            to="someone@families.example",
            subject="s",
            text="t",
            now=NOW - timedelta(hours=3),
        )
        db.commit()


def test_the_watchdog_does_the_same_both_ways(prefect_harness, drs_env, smtp_server, las):
    from flows.heartbeat import scheduled_heartbeat
    from flows.watchdog import watchdog
    from tasks.operations import job

    _stuck_outbox()
    direct, flowed = both_ways(
        drs_env,
        lambda: job.run(NOW.date(), NOW, heartbeat=scheduled_heartbeat),
        lambda: watchdog(now=NOW),
    )
    summary = direct.summary.as_dict()
    assert "outbox-stale" in summary["problems"] and summary["outbox_waiting"] == 1
    assert summary["alerted"] == summary["problems"]
    assert summary["today"]["Emails that failed"] == 0
    assert direct.summary.skipped == ("dashboard artifacts", "runs lost with their machine")
    assert summary == flowed.summary
    assert direct.tables == flowed.tables and direct.files == flowed.files
    sent = sorted(str(m["Subject"]) for m in smtp_server.messages)  # each way emailed the team once per problem
    assert len(sent) == 2 * len(summary["alerted"]) and sent[0] == sent[1]

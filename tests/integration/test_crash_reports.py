"""A run lost with its machine: the team's email is queued once per run, references only (issue 18),
and the automation that marks such runs Crashed waits two heartbeats and 15 s."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.operations.crashes import LostRun, queue_crash_reports

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_each_lost_run_is_queued_to_the_team_once_however_often_it_is_reported(drs_env):
    runs = [
        LostRun("0b6f-1", "tangerine-okapi", "referral-intake", "http://127.0.0.1:4200/runs/flow-run/0b6f-1"),
        LostRun("0b6f-2", "sleepy-heron", "deadline-monitor", "http://127.0.0.1:4200/runs/flow-run/0b6f-2"),
    ]
    first = queue_crash_reports(runs, NOW)
    again = queue_crash_reports(runs, NOW)  # a second task worker, or the next minute
    assert len(first) == 2 and again == []
    with unit_of_work() as db:
        rows = db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        assert [(r.kind, r.to_addr, r.key) for r in rows] == [
            ("flow-crashed", "team@service.example.org", "flow-crashed:0b6f-1"),
            ("flow-crashed", "team@service.example.org", "flow-crashed:0b6f-2"),
        ]
        assert "referral-intake" in rows[0].subject and "tangerine-okapi" in rows[0].subject
        assert "/runs/flow-run/0b6f-1" in rows[0].body_text and "Crashed" in rows[0].body_text


def test_the_automation_waits_two_heartbeats_and_crashes_silent_running_runs():
    from datetime import timedelta

    from flows.crashes import CRASH_MESSAGE, crash_after_seconds, crash_automation

    assert crash_after_seconds(30) == 75 and crash_after_seconds(60) == 135
    automation = crash_automation(135)
    trigger = automation.trigger
    assert trigger.posture == "Proactive" and trigger.within == timedelta(seconds=135)
    assert trigger.after == {"prefect.flow-run.heartbeat"}
    assert {"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Crashed"} <= trigger.expect
    assert trigger.for_each == {"prefect.resource.id"}
    (action,) = automation.actions
    assert action.type == "change-flow-run-state" and action.state == "CRASHED" and action.message == CRASH_MESSAGE

"""The scheduled-runs budget: at most 100 scheduled flow runs a day, counted from the crons."""

from __future__ import annotations

from datetime import date

import pytest

from flows.deployments import SCHEDULED, repository_yaml_path
from tasks.operations.schedule_load import (
    DAILY_BUDGET,
    busiest_day,
    crons_from_prefect_yaml,
    longest_gap_minutes,
    runs_on,
    runs_per_day,
)

#: The schedules before issue 16 (deliver-email every minute, intake every 5 minutes).
BEFORE = {
    "referral-intake": ["*/5 0,3-23 * * *"],
    "deliver-email": ["* 0,3-23 * * *"],
    "deadline-monitor": ["45 6,12 * * *"],
    "session-reminders": ["0 8-20 * * *"],
    "expense-routing": ["15 9 * * 1-5"],
    "monthly-report": ["30 6 1 * *"],
    "retention": ["30 4 * * 0"],
    "watchdog": ["5 9 * * 1-5", "35 0,3-23 * * *"],
}


@pytest.mark.parametrize(
    ("cron", "day", "expected"),
    [
        ("* 0,3-23 * * *", date(2026, 12, 1), 22 * 60),
        ("*/5 0,3-23 * * *", date(2026, 12, 1), 22 * 12),
        ("15 9 * * 1-5", date(2026, 12, 5), 0),  # a Saturday
        ("15 9 * * 1-5", date(2026, 12, 4), 1),  # a Friday
        ("30 4 * * 0", date(2026, 12, 6), 1),  # a Sunday
        ("30 4 * * 7", date(2026, 12, 6), 1),  # 7 is Sunday too
        ("30 6 1 * *", date(2026, 12, 1), 1),
        ("30 6 1 * *", date(2026, 12, 2), 0),
        ("0 8-20/4 * * *", date(2026, 12, 2), 4),  # 8, 12, 16, 20
    ],
)
def test_runs_on_counts_cron_firings(cron, day, expected):
    assert runs_on(cron, day) == expected


def test_the_old_schedules_made_over_sixteen_hundred_runs_a_day():
    day, total = busiest_day(BEFORE, date(2026, 1, 1))
    assert total == 1624
    assert runs_per_day(BEFORE, date(2026, 12, 2))["deliver-email"] == 1320


def test_the_deployments_stay_within_the_daily_budget_every_day_of_a_year():
    crons = {spec.name: spec.crons for spec in SCHEDULED}
    day, total = busiest_day(crons, date(2026, 1, 1), days=366)
    assert total <= DAILY_BUDGET == 100, (day, runs_per_day(crons, day))


def test_prefect_yaml_stays_within_the_daily_budget_too():
    crons = crons_from_prefect_yaml(repository_yaml_path().read_text())
    assert {n: c for n, c in crons.items() if c} == {s.name: list(s.crons) for s in SCHEDULED}
    assert busiest_day(crons, date(2026, 1, 1))[1] <= DAILY_BUDGET


def test_no_gap_between_delivery_sweeps_is_longer_than_before():
    """Without `drs serve` (no task worker, no outbox watch) the sweep alone delivers: its longest
    gap must not exceed the old one (00:59 to 03:00 across the clock-change pause)."""
    deliver = next(s for s in SCHEDULED if s.name == "deliver-email")
    assert longest_gap_minutes(BEFORE["deliver-email"]) == 121
    assert longest_gap_minutes(deliver.crons) <= 121
    assert longest_gap_minutes(["0 3-23 * * *"]) == 240  # the check can fail

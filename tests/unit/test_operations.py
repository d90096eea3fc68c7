"""Operations rules (watchdog, retention dates) and the deployment registry: pure and fast."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from flows.deployments import (
    ADMIN,
    DEPLOYMENTS,
    QUIET_HOURS,
    SCHEDULED,
    TIMEZONE,
    render_prefect_yaml,
    repository_yaml_path,
)
from models.domain.operations import (
    RETENTION_MONTHS,
    anonymise_on_or_after,
    closed_before_for_retention,
    watchdog_problems,
)

LONDON = ZoneInfo("Europe/London")


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


# --- watchdog --------------------------------------------------------------------------------


def test_monitor_not_run_by_nine_on_a_working_day_is_a_problem():
    problems = watchdog_problems(at(2026, 11, 27, 9, 5), True, at(2026, 11, 26, 12, 50), 0, None)
    assert [p.key for p in problems] == ["deadline-monitor"]
    assert "Thursday 26 November at 12:50" in problems[0].text


def test_monitor_that_completed_this_morning_is_fine():
    assert watchdog_problems(at(2026, 11, 27, 9, 5), True, at(2026, 11, 27, 6, 47), 0, None) == []


def test_before_nine_and_on_days_off_the_monitor_is_not_checked():
    assert watchdog_problems(at(2026, 11, 27, 8, 59), True, None, 0, None) == []
    assert watchdog_problems(at(2026, 11, 28, 10, 0), False, None, 0, None) == []  # Saturday


def test_monitor_that_never_ran_and_unreadable_history_are_problems():
    never = watchdog_problems(at(2026, 11, 27, 9, 5), True, None, 0, None)
    assert "never completed" in never[0].text
    unreadable = watchdog_problems(at(2026, 11, 27, 9, 5), True, None, 0, None, api_error="ConnectError")
    assert unreadable[0].key == "deadline-monitor" and "ConnectError" in unreadable[0].text


def test_stale_outbox_is_a_problem_any_day_with_the_count():
    problems = watchdog_problems(at(2026, 11, 28, 3, 35), False, None, 4, at(2026, 11, 28, 0, 10))
    assert [p.key for p in problems] == ["outbox-stale"]
    assert problems[0].subject.startswith("4 email(s)")


# --- retention dates -------------------------------------------------------------------------


def test_retention_is_two_calendar_years_after_closure():
    assert RETENTION_MONTHS == 24
    assert anonymise_on_or_after(date(2024, 2, 29)) == date(2026, 2, 28)
    assert closed_before_for_retention(date(2026, 11, 29)) == date(2024, 11, 29)


# --- the registry ----------------------------------------------------------------------------


def _hours(field: str) -> set[int]:
    hours: set[int] = set()
    for part in field.split(","):
        if part == "*":
            hours |= set(range(24))
        elif part.startswith("*/"):
            hours |= set(range(0, 24, int(part[2:])))
        elif "-" in part:
            a, b = part.split("-")
            hours |= set(range(int(a), int(b) + 1))
        else:
            hours.add(int(part))
    return hours


def test_every_deployment_is_named_after_its_flow_and_limited_to_one_run():
    names = [s.name for s in DEPLOYMENTS]
    assert len(names) == len(set(names))
    assert {
        "referral-intake",
        "deliver-email",
        "deadline-monitor",
        "session-reminders",
        "expense-routing",
        "monthly-report",
        "retention",
        "watchdog",
        "bounce-check",
    } == {s.name for s in SCHEDULED}
    assert all(s.concurrency_limit == 1 for s in DEPLOYMENTS)
    assert all(not s.crons for s in ADMIN)
    assert TIMEZONE == "Europe/London"


@pytest.mark.parametrize("spec", SCHEDULED, ids=lambda s: s.name)
def test_nothing_is_scheduled_in_the_clock_change_hours(spec):
    for cron in spec.crons:
        minute, hour, *_ = cron.split()
        assert not _hours(hour) & set(QUIET_HOURS), cron


def test_schedules_say_what_the_issue_asks():
    crons = {s.name: s.crons for s in SCHEDULED}
    assert crons["deadline-monitor"] == ("45 6,12 * * *",)
    assert crons["session-reminders"] == ("0 8-20 * * *",)
    assert crons["expense-routing"] == ("15 9 * * 1-5",)
    assert crons["monthly-report"] == ("30 6 1 * *",)
    assert "5 9 * * 1-5" in crons["watchdog"]
    assert crons["bounce-check"] == ("*/15 9-17 * * 1-5",)  # issue 15: office hours, Europe/London


def test_prefect_yaml_is_generated_from_the_registry():
    import yaml

    text = render_prefect_yaml()
    assert repository_yaml_path().read_text() == text, "regenerate: python -m flows.deployments yaml > prefect.yaml"
    doc = yaml.safe_load(text)
    by_name = {d["name"]: d for d in doc["deployments"]}
    assert set(by_name) == {s.name for s in DEPLOYMENTS}
    for spec in DEPLOYMENTS:
        d = by_name[spec.name]
        assert d["entrypoint"] == spec.file_entrypoint
        assert d["concurrency_limit"] == 1
        assert d["work_pool"]["name"] == "drs-process"
        assert [(s["cron"], s["timezone"]) for s in d["schedules"]] == [(c, "Europe/London") for c in spec.crons]
    assert "definitions" in doc

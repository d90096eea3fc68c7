"""watchdog — alerts that don't depend on luck, and the team's "Today" screen.

Weekdays 09:05 and hourly (never 01:00-03:00): reads from the Prefect API when each scheduled job
last succeeded, and from the database how long the outbox has been waiting; emails the team
(through the mailer, not the outbox) when the deadline monitor has not completed by 09:00 on a
working day, or when messages have waited more than an hour — each problem at most once a day.
It also refreshes the markdown artifacts `today` (what the team needs to do today) and
`job-heartbeat` (when each job last succeeded).

Run it: `prefect deployment run watchdog/watchdog`, or in Python `watchdog(now=...)`.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.hooks import notify_team_of_failure
from models.domain.operations import watchdog_problems
from tasks.timekeeping import local_tz, resolve_now


@task(cache_policy=NO_CACHE)
def read_heartbeat(names: list[str], now: datetime) -> dict:
    """Last successful end time per job (ISO strings), plus the digest lines."""
    from flows.heartbeat import last_successes

    beat = last_successes(names)
    return {
        "last_success": {n: (t.isoformat() if t else None) for n, t in beat.last_success.items()},
        "api_error": beat.api_error,
        "lines": beat.lines(now),
    }


@task(cache_policy=NO_CACHE)
def read_outbox_backlog(now: datetime) -> dict:
    """How many outbox messages have waited more than an hour, and since when."""
    from tasks.operations.watchdog import outbox_backlog

    count, oldest = outbox_backlog(now)
    return {"count": count, "oldest": oldest.isoformat() if oldest else None}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 60])
def alert_team(problems: list[dict], now: datetime) -> list[str]:
    """Email the team once a day per problem; returns the problem keys emailed now."""
    from models.domain.operations import Problem
    from tasks.operations.watchdog import alert_team_once

    return alert_team_once([Problem(**p) for p in problems], now.astimezone(local_tz()).date(), now)


@task(cache_policy=NO_CACHE)
def publish_today(now: datetime) -> dict[str, int]:
    """Refresh the `today` markdown artifact; returns the count per section."""
    from tasks.operations.today import publish_today_markdown

    return publish_today_markdown(now.astimezone(local_tz()).date(), now)


def _log_today(counts: dict[str, int]) -> None:
    """One line in this run's log (its page's default tab): the screen's counts and its address."""
    from prefect import get_run_logger
    from prefect.settings import get_current_settings

    from tasks.operations.today import today_log_line

    get_run_logger().info(today_log_line(counts, get_current_settings().ui_url))


@flow(name="watchdog", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def watchdog(now: datetime | None = None) -> dict:
    """Check the deadline monitor and the outbox; alert the team; refresh the Today screen.

    Args:
        now: Check as if it were this moment (default: now, Europe/London).
    """
    from flows.deployments import SCHEDULED
    from tasks.deadlines.calendar_source import working_calendar

    today, now = resolve_now(now, None)
    tz = local_tz()
    names = [spec.name for spec in SCHEDULED]
    beat = read_heartbeat(names, now)
    backlog = read_outbox_backlog(now)
    monitor = beat["last_success"].get("deadline-monitor")
    problems = watchdog_problems(
        now.astimezone(tz),
        working_calendar().is_working_day(today),
        datetime.fromisoformat(monitor).astimezone(tz) if monitor else None,
        backlog["count"],
        datetime.fromisoformat(backlog["oldest"]).astimezone(tz) if backlog["oldest"] else None,
        api_error=beat["api_error"],
    )
    alerted = alert_team([p.__dict__ for p in problems], now) if problems else []
    create_markdown_artifact(
        key="job-heartbeat",
        description="When each scheduled job last succeeded",
        markdown="# When each job last succeeded\n\n" + "\n".join(f"- {line}" for line in beat["lines"]),
    )
    counts = publish_today(now)
    _log_today(counts)
    return {
        "problems": [p.key for p in problems],
        "alerted": alerted,
        "outbox_waiting": backlog["count"],
        "today": counts,
    }

"""watchdog — alerts that don't depend on luck, and the team's "Today" screen.

Weekdays 09:05 and hourly (never 01:00-03:00): reads from the Prefect API when each scheduled job
last succeeded, and from the database how long the outbox has been waiting; emails the team
(through the mailer, not the outbox) when the deadline monitor has not completed by 09:00 on a
working day, or when messages have waited more than an hour — each problem at most once a day.
It also refreshes the markdown artifacts `today` (what the team needs to do today) and
`job-heartbeat` (when each job last succeeded).

The check itself is `tasks.operations.job.run` (the one orchestrator); this flow runs its steps as
tasks (alerting the team with two retries) and adds the Prefect-only extras: the artifacts and
the log line with the screen's address.

Run it: `prefect deployment run watchdog/watchdog`, or in Python `watchdog(now=...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now

if TYPE_CHECKING:
    from tasks.operations.job import WatchdogSummary


@cache
def _alert_team() -> Any:
    """The mailer may be down for a moment: alerting the team is retried twice (10 s, then 60 s)."""
    from tasks.operations.watchdog import alert_team_once

    return task(name="alert-team", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 60])(alert_team_once)


def _step(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Each step as a task; alerting the team with its retries."""
    from tasks.operations.watchdog import alert_team_once  # loaded by the job already

    if fn is alert_team_once:
        return _alert_team()(*args, **kwargs)
    return as_task(fn, *args, **kwargs)


def _publish_heartbeat(summary: WatchdogSummary) -> None:
    create_markdown_artifact(
        key="job-heartbeat",
        description="When each scheduled job last succeeded",
        markdown="# When each job last succeeded\n\n" + "\n".join(f"- {line}" for line in summary.heartbeat_lines),
    )


def _log_today(counts: dict[str, int]) -> None:
    """One line in this run's log (its page's default tab): the screen's counts and its address."""
    from prefect import get_run_logger
    from prefect.settings import get_current_settings

    from tasks.operations.today import today_log_line

    get_run_logger().info(today_log_line(counts, get_current_settings().ui_url))


def _report_lost_runs(now: datetime) -> None:
    """The backstop for a machine that died: runs lost with it are reported to the team (once per
    run, `flows.crashes`) even when no task worker or `drs serve` is watching for them."""
    from prefect import get_run_logger
    from prefect.utilities.asyncutils import run_coro_as_sync

    from flows.crashes import report_crashed_runs

    try:
        run_coro_as_sync(report_crashed_runs(now))
    except Exception as exc:  # noqa: BLE001 — the watchdog's own checks come first
        get_run_logger().warning("could not check for runs lost with their machine (%s)", type(exc).__name__)


@plain_parameters
@flow(name="watchdog", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def watchdog(now: datetime | None = None) -> dict:
    """Check the deadline monitor and the outbox; alert the team; refresh the Today screen.

    Args:
        now: Check as if it were this moment (default: now, Europe/London).
    """
    from flows.heartbeat import scheduled_heartbeat
    from flows.today import publish_view
    from tasks.operations import job  # here: importing the flow stays light (issue 14)

    today, now = resolve_now(now, None)
    summary = job.run(today, now, step=_step, heartbeat=scheduled_heartbeat)
    _publish_heartbeat(summary)
    counts = as_task(publish_view, summary.screen)
    _log_today(counts)
    _report_lost_runs(now)
    return summary.as_dict()

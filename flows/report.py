"""monthly-report — 1st of each month, 06:30 Europe/London: the Excel report of the month just ended.

Writes `$DRS_HOME/reports/monthly/drs-monthly-YYYY-MM.xlsx` (every LA) and one workbook per LA,
queues the full workbook to the team and each LA's own workbook to its contract contact (the
delivery sweep sends them), and publishes two artifacts: `monthly-report-link` (where the
workbook is) and `monthly-report-kpis` (headline figures per LA: counts, no personal data).
Re-running a month emails nobody twice unless `resend` is set; it writes the workbooks again only
when what they are made from changed (a late event, a row changed, the holidays, the report's code,
a workbook removed or edited): an unchanged month writes nothing (`tasks.reporting.fingerprint`).

Run it: `drs report monthly --month 2026-11`, `prefect deployment run monthly-report/monthly-report`,
or in Python `monthly_report(month="2026-11")`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact, create_table_artifact
from pydantic import Field

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import local_tz


@plain_parameters
@flow(name="monthly-report", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def monthly_report(
    month: Annotated[str | None, Field(description="YYYY-MM to report (default: the month just ended)")] = None,
    today: Annotated[date | None, Field(description="the day to run as (default: today in DRS_TIMEZONE)")] = None,
    now: Annotated[datetime | None, Field(description="the moment to run as (default: now)")] = None,
    out: Annotated[
        str | None, Field(description="folder for the workbooks (default: $DRS_HOME/reports/monthly)")
    ] = None,
    resend: Annotated[bool, Field(description="email the workbooks again even if this month was sent")] = False,
) -> dict[str, Any]:
    """Write and distribute the monthly report; returns the same summary as `drs report monthly --json`."""
    from tasks.reporting import job

    summary = job.run(month, now, today=today, out=out, resend=resend, step=as_task, superseded=_newer_run_for)
    if summary.superseded_by is not None:  # a late run (after downtime) that a newer run already did
        get_run_logger().info(
            "monthly report %s already done by the newer run %s; nothing to do", summary.month, summary.superseded_by
        )
    else:
        _publish(summary.as_dict())
    return summary.as_dict()


LATE_AFTER = timedelta(minutes=10)


def _newer_run_for(month: str) -> str | None:
    """When this run is late (due more than 10 minutes ago, e.g. picked up after downtime), the id of a
    newer completed `monthly-report` run for the same month, if there is one; else None.

    A run started now (the CLI, the dashboard's Run button, an on-time schedule) never skips."""
    from prefect.runtime import flow_run

    from flows.heartbeat import newer_completed_run
    from models.domain.dates import parse_date, parse_moment
    from tasks.reporting.job import resolve_month

    expected = flow_run.scheduled_start_time
    if flow_run.id is None or expected is None or expected > datetime.now(UTC) - LATE_AFTER:
        return None

    def same_month(params: dict[str, Any], its_start: datetime) -> bool:
        if params.get("month"):
            return str(params["month"]) == month
        given_day = parse_date(params.get("today"))
        given_moment = parse_moment(params.get("now"), local_tz())
        if given_day is not None:
            day = given_day
        elif given_moment is not None:
            day = given_moment.astimezone(local_tz()).date()
        else:
            day = its_start.astimezone(local_tz()).date()
        return resolve_month(None, day) == month

    return newer_completed_run("monthly-report", str(flow_run.id), expected, same_month)


def _publish(result: dict[str, Any]) -> None:
    path = Path(result["workbook"])
    create_link_artifact(
        key="monthly-report-link",
        link=path.resolve().as_uri(),
        link_text=path.name,
        description=f"Monthly report {result['month']}: the workbook for every LA (per-LA workbooks beside it).",
    )
    create_table_artifact(
        key="monthly-report-kpis",
        table=result["kpis"],
        description=(
            f"Monthly report {result['month']}: headline figures per LA, count/out of (%). "
            "Definitions are on the workbook's cover sheet."
        ),
    )

"""`drs report monthly --month YYYY-MM [--out DIR] [--json] [--resend]`: the monthly Excel report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from cli.common import InputError, emit_json, json_option, run_flow, say_skipped, today_options


def _direct(month: str, now: datetime, out: str | None, resend: bool) -> dict[str, Any]:
    """No Prefect server: the same orchestrator with plain calls; stderr says what it did not do."""
    from tasks.reporting import job
    from tasks.steps import call

    summary = job.run(month, now, out=out, resend=resend, step=call)
    say_skipped(summary.skipped)
    return summary.as_dict()


@click.group()
def report() -> None:
    """Reports for managers and commissioners."""


@report.command("monthly")
@click.option("--month", default=None, metavar="YYYY-MM", help="the month to report (default: the month just ended)")
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(file_okay=False),
    help="folder for the workbooks (default: $DRS_HOME/reports/monthly)",
)
@click.option("--resend", is_flag=True, help="email the workbooks again even if this month was sent before")
@today_options
@json_option
def monthly(
    month: str | None, out: str | None, resend: bool, today: str | None, now: str | None, as_json: bool
) -> None:
    """Write the month's workbooks (all LAs, and one per LA) and queue them by email."""
    from cli.common import resolve_clock
    from tasks.reporting.job import ReportError, resolve_month

    day, moment = resolve_clock(today, now)
    try:
        month = resolve_month(month, day)
    except ReportError as exc:
        raise InputError(str(exc)) from None
    if out is not None:  # a folder that cannot be made or written is the user's mistake (exit 2)
        import os
        from pathlib import Path

        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--out {out}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"--out {out}: the folder is not writable")
    from tasks.operations import progress

    with progress.shown("report monthly", "LA workbooks", enabled=not as_json):
        result = run_flow(
            "flows.report:monthly_report", direct=_direct, month=month, now=moment, out=out, resend=resend
        )
    if as_json:
        emit_json(result)
        return
    emails = result["emails"]
    click.echo(f"monthly report {result['month']}: {result['workbook']}")
    click.echo(f"  {len(result['la_workbooks'])} LA workbooks in the same folder")
    click.echo(
        f"  emails queued {emails['queued']}, already queued {emails['already_queued']}"
        + (f", no address for {', '.join(emails['no_recipient'])}" if emails["no_recipient"] else "")
    )
    if emails["already_queued"] and not resend:
        click.echo("  (use --resend to email this month again)")

"""`drs monitor [--today D] [--json]`: deadline monitoring now."""

from __future__ import annotations

import click

from cli.common import emit_json, json_option, resolve_clock, run_flow, say_skipped, today_options


def _direct(today, now, wait_for_approval: bool = False) -> dict:
    """The same orchestrator as the flow, its steps as plain calls (no Prefect server is reachable)."""
    from flows.heartbeat import job_history_without_server
    from tasks.deadlines.job import run

    summary = run(today, now, job_history=job_history_without_server)
    say_skipped(summary.skipped)
    return summary.as_dict()


@click.command()
@today_options
@json_option
def monitor(today: str | None, now: str | None, as_json: bool) -> None:
    """Refresh clocks, send deadline alerts and the daily digest, issue due certificates.

    Certificates that an LA wants approved first are reported as awaiting approval (approve them
    in the dashboard when the scheduled run pauses, or issue with `drs certificate issue`).
    """
    day, moment = resolve_clock(today, now)
    # A command must not block on a dashboard approval: held certificates are reported instead.
    summary = run_flow("flows.monitor:deadline_monitor", direct=_direct, today=day, now=moment, wait_for_approval=False)
    if as_json:
        emit_json(summary)
        return
    alerts = ", ".join(f"{n} {k}" for k, n in sorted(summary["alerts"].items())) or "none"
    click.echo(
        f"deadline monitor {summary['today']}: alerts {alerts}; {summary['emails_queued']} emails queued; "
        f"{summary['clocks_marked_missed']} clocks marked missed; {summary['cases_recomputed']} cases recomputed"
    )
    click.echo(
        f"certificates issued: {', '.join(summary['certificates_issued']) or 'none'}; "
        f"awaiting approval: {', '.join(summary['awaiting_approval']) or 'none'}"
    )
    for error in summary["certificate_errors"]:
        click.echo(f"  {error}", err=True)
    state = "queued" if summary["digest_queued"] else "not queued (already queued today, or not a working day)"
    click.echo(f"digest: {state}; {summary['digest_rows']} clocks due in 5 working days or missed")

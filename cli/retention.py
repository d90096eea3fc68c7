"""`drs retention [--dry-run] [--today D] [--json]`: the retention policy, by hand."""

from __future__ import annotations

from datetime import date

import click

from cli.common import emit_json, json_option, resolve_clock, run_flow, today_options


def run_retention_directly(today: date) -> dict:
    """No server reachable: the same orchestrator as the `retention` flow, each step a plain call."""
    from tasks.privacy import job
    from tasks.timekeeping import resolve_now

    today, now = resolve_now(None, today)
    return job.run(today, now).as_dict()  # `skipped`: the dashboard artifact (stderr already says so)


@click.command()
@click.option("--dry-run", is_flag=True, help="only list what would be anonymised or deleted")
@today_options
@json_option
def retention(dry_run: bool, today: str | None, now: str | None, as_json: bool) -> None:
    """Anonymise long-closed cases and delete old file copies (references only in the output)."""
    from tasks.privacy.retention import plan_retention

    day, _ = resolve_clock(today, now)
    plan = plan_retention(day)
    if dry_run:
        if as_json:
            emit_json(plan | {"dry_run": True})
            return
        _show_plan(plan, "would be")
        return
    if not as_json:
        _show_plan(plan, "to be")
    result = run_flow("flows.retention:retention", direct=run_retention_directly, today=day)
    if as_json:
        emit_json(result)
        return
    files = result.get("files_removed", {})
    click.echo(
        f"anonymised {result['cases']} case(s); emails cleared {result['emails']}, cancelled "
        f"{result['emails_cancelled']}; attachments removed {result['attachments']}; certificate PDFs "
        f"{result['certificates']}; claims cleared {result['claims']} ({result['claims_waiting_for_payment']} "
        f"kept until paid); case files deleted {sum(result['case_files'].values())}; old files deleted "
        f"{sum(files.values())}"
    )
    for error in result.get("file_errors", []) + result.get("case_file_errors", []):
        click.echo(f"drs: could not delete {error}", err=True)


def _show_plan(plan: dict, verb: str) -> None:
    click.echo(f"cases closed on or before {plan['closed_before']} {verb} anonymised: {plan['cases']}")
    for ref in plan["refs"]:
        click.echo(f"  {ref}")
    if plan["held"]:
        click.echo(f"on legal hold, kept: {', '.join(plan['held'])}")
    files = plan["files_to_remove"]
    click.echo(
        f"files last changed before {plan['files_older_than']} {verb} deleted: {sum(files.values())}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in files.items()) + ")" if files else "")
    )

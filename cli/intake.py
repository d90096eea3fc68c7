"""`drs intake [PATH…] [--today D] [--json]`: referral intake now."""

from __future__ import annotations

import click

from cli.common import InputError, emit_json, json_option, resolve_clock, run_flow, say_skipped, today_options


def _direct(paths: list[str] | None, today, now) -> dict:
    """No Prefect server: the same job, its steps as plain calls (no artifact, no background delivery)."""
    from tasks.intake import job

    done = job.run(today, now, paths=paths)
    say_skipped(done.skipped)
    return done.as_dict()


def _inbox_now() -> list[str]:
    """No PATH: the inbox, as the scheduled run reads it (a file written a moment ago is taken once
    it has stayed the same across two looks `DRS_INBOX_STABLE_SECONDS` apart)."""
    from tasks.intake.referral_intake import inbox_dir

    inbox = inbox_dir()
    return [str(inbox)] if inbox.is_dir() else []


@click.command()
@click.argument("paths", nargs=-1)
@today_options
@json_option
def intake(paths: tuple[str, ...], today: str | None, now: str | None, as_json: bool) -> None:
    """Import web-form referrals from files or folders (default: $DRS_HOME/inbox/referrals/).

    Files taken from the inbox end in processed/ (and rejected/ with <name>.errors.json when a
    record was rejected). Files given outside the inbox are read where they are and not moved.
    """
    from tasks.intake.referral_intake import IntakeInputError, check_paths

    day, moment = resolve_clock(today, now)
    try:
        check_paths(list(paths))
    except IntakeInputError as exc:
        raise InputError(str(exc)) from None
    from tasks.operations import progress

    with progress.shown("intake", "records", enabled=not as_json):
        summary = run_flow(
            "flows.intake:referral_intake",
            direct=_direct,
            paths=list(paths) or _inbox_now() or None,
            today=day,
            now=moment,
        )
    if as_json:
        emit_json(summary)
        return
    click.echo(f"{summary['imported']} imported, {summary['duplicates']} duplicates, {summary['rejected']} rejected")
    for r in summary["results"]:
        line = f"  {r['status']:<9} {r['case_ref'] or '-':<15} {r['form_id'] or '-':<12} {r['source']}"
        click.echo(line)
        for error in r["errors"]:
            click.echo(f"      {error}")

"""`drs subject-access --email ADDR --out DIR`: everything held about a person, across cases."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import InputError, emit_json, json_option, resolve_clock, today_options


@click.command("subject-access")
@click.option("--email", "email", required=True, help="the person's email address")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder to write (created)")
@today_options
@json_option
def subject_access(email: str, out: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Subject access request: write every case of that family and every email to the address."""
    from tasks.privacy.subject_access import export_for_address

    _, moment = resolve_clock(today, now)
    try:
        result = export_for_address(email, Path(out), moment)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    cases = ", ".join(result["refs"]) or "no case"
    click.echo(
        f"{cases}; {result['other_emails']} other email(s): {result['files']} files written to "
        f"{result['out']} (see README.txt)"
    )

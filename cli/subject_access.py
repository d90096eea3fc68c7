"""`drs subject-access --email ADDR --out DIR`: everything held about a person, across cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.actions import run_action
from cli.common import json_option, today_options


@click.command("subject-access")
@click.option("--email", "email", required=True, help="the person's email address")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder to write (created)")
@today_options
@json_option
def subject_access(email: str, out: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Subject access request: write every case of that family and every email to the address."""
    from tasks.privacy.subject_access import export_for_address

    def show(doc: dict[str, Any]) -> None:
        cases = ", ".join(doc["refs"]) or "no case"
        click.echo(
            f"{cases}; {doc['other_emails']} other email(s): {doc['files']} files written to "
            f"{doc['out']} (see README.txt)"
        )

    run_action(
        lambda _, moment: export_for_address(email, Path(out), moment),
        today=today,
        now=now,
        as_json=as_json,
        show=show,
        refusals=(ValueError,),
    )

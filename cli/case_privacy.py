"""`drs case hold | release | export | erase`: data protection (issue 17) — legal hold, subject
access export, erasure. Each runs its action's one Prefect-free entry through `cli.actions`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.actions import run_action
from cli.common import json_option, today_options


@click.command("hold")
@click.argument("ref")
@click.option("--reason", required=True, help="why (complaint, tribunal appeal, court order); no personal details")
@today_options
@json_option
def hold(ref: str, reason: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Put a case on legal hold: retention, erasure and file clean-up leave it alone."""
    from tasks.privacy.legal_hold import hold_case

    def show(doc: dict[str, Any]) -> None:
        click.echo(f"{doc['ref']}: on legal hold ({doc['legal_hold']['reason']})")

    run_action(lambda _, moment: hold_case(ref, reason, moment), today=today, now=now, as_json=as_json, show=show)


@click.command("release")
@click.argument("ref")
@today_options
@json_option
def release(ref: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Take a case off legal hold (retention applies to it again)."""
    from tasks.privacy.legal_hold import release_case

    def show(doc: dict[str, Any]) -> None:
        click.echo(f"{doc['ref']}: legal hold released")

    run_action(lambda _, moment: release_case(ref, moment), today=today, now=now, as_json=as_json, show=show)


@click.command("export")
@click.argument("ref")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder to write (created)")
@today_options
@json_option
def export(ref: str, out: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Subject access: everything held about the case's family, as JSON plus files, with a README."""
    from tasks.privacy.subject_access import export_case

    def show(doc: dict[str, Any]) -> None:
        click.echo(f"{', '.join(doc['refs'])}: {doc['files']} files written to {doc['out']} (see README.txt)")

    run_action(lambda _, moment: export_case(ref, Path(out), moment), today=today, now=now, as_json=as_json, show=show)


@click.command("erase")
@click.argument("ref")
@click.option("--reason", required=True, help="why (e.g. erasure request received on D); no personal details")
@today_options
@json_option
def erase(ref: str, reason: str, today: str | None, now: str | None, as_json: bool) -> None:
    """Erasure on request: anonymise the case now, every copy (refused while on legal hold)."""
    from tasks.privacy.retention import erase_case

    def show(doc: dict[str, Any]) -> None:
        files = sum(doc["case_files"].values())
        click.echo(
            f"{', '.join(doc['refs'])}: anonymised ({doc['emails'] + doc['emails_cancelled']} emails, "
            f"{doc['attachments']} attachments, {doc['claims']} claims, {files} files removed)"
        )

    doc = run_action(
        lambda _, moment: erase_case(ref, reason, moment), today=today, now=now, as_json=as_json, show=show
    )
    if not as_json:
        for error in doc["case_file_errors"]:
            click.echo(f"drs: could not delete {error}", err=True)

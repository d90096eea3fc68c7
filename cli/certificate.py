"""`drs certificate issue REF --on D [--type T]`: PDF + email to the family."""

from __future__ import annotations

import click

from cli.common import InputError, emit_json, json_option, parse_date, resolve_clock, today_options
from models.domain.vocabulary import CERTIFICATE_TYPES


@click.group()
def certificate() -> None:
    """Mediation certificates."""


@certificate.command("issue")
@click.argument("ref")
@click.option("--on", "on", required=True, help="date of issue (YYYY-MM-DD)")
@click.option(
    "--type",
    "cert_type",
    type=click.Choice(CERTIFICATE_TYPES),
    help="which certificate (default: the one the case's latest trigger calls for)",
)
@click.option("--adviser", default=None, help="the adviser's name as it should appear on the certificate")
@today_options
@json_option
def issue(
    ref: str, on: str, cert_type: str | None, adviser: str | None, today: str | None, now: str | None, as_json: bool
) -> None:
    """Issue a certificate: the PDF under $DRS_HOME/certificates/, emailed to the family, and the
    certificate-issued event (which moves the appeal deadline). A second one for the same trigger
    is refused."""
    from models.domain.fields import text_problem
    from tasks.certificates.issue import issue_certificate

    day, moment = resolve_clock(today, now)
    on_date = parse_date(on, "--on")
    if text_problem(adviser):
        raise InputError(f"--adviser {text_problem(adviser)}")
    result = issue_certificate(
        ref, on_date, today=day, now=moment, actor="cli:certificate-issue", cert_type=cert_type, adviser=adviser
    )
    if as_json:
        emit_json(result)
        return
    deadline = result["appeal_deadline"] or "n/a"
    click.echo(
        f"{result['case_ref']}: certificate {result['number']} ({result['type']}) issued {result['issued_on']}; "
        f"appeal deadline {deadline}; emailed to the {result['emailed_to']}"
    )
    click.echo(result["pdf"])

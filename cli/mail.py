"""`drs mail deliver [--json]`: deliver the outbox now, in this process."""
from __future__ import annotations

import click

from cli.common import emit_json, json_option, resolve_clock, run_flow, today_options


def _direct(now, retry_waiting: bool = True) -> dict:
    from tasks.delivery import deliver_pending

    return deliver_pending(now, retry_waiting=retry_waiting).as_dict()


@click.group()
def mail() -> None:
    """The email outbox."""


@mail.command("deliver")
@today_options
@json_option
def deliver(today: str | None, now: str | None, as_json: bool) -> None:
    """Send every email that is due (SMTP, or .eml files with no DRS_SMTP_HOST) and return.

    Emails waiting to be retried after a failure are tried again now (the scheduled deliver-email
    job waits for their back-off); quiet-hours holds are kept. Nothing needs a task worker.
    """
    _, moment = resolve_clock(today, now)
    from tasks import progress

    with progress.shown("mail deliver", "emails", enabled=not as_json):
        summary = run_flow("flows.delivery:deliver_email", direct=_direct, now=moment, retry_waiting=True)
    if as_json:
        emit_json(summary)
        return
    click.echo(f"{summary['sent']} sent, {summary['retrying']} to retry, {summary['failed']} failed, "
               f"{summary['remaining']} still pending")

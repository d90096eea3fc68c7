"""`drs mail deliver [--json]`: deliver the outbox now, in this process; `drs mail retry`: put
failed emails back in the queue; `drs mail bounces`: read the bounce mailbox (issue 15)."""

from __future__ import annotations

import click

from cli.common import emit_json, json_option, resolve_clock, run_flow, say_skipped, today_options


def _direct(now, retry_waiting: bool = True) -> dict:
    """No Prefect server: the delivery job, its steps as plain calls (the flow adds nothing to skip)."""
    from tasks.mail import job

    return job.run(None, now, retry_waiting=retry_waiting).as_dict()


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
    from tasks.operations import progress

    with progress.shown("mail deliver", "emails", enabled=not as_json):
        summary = run_flow("flows.delivery:deliver_email", direct=_direct, now=moment, retry_waiting=True)
    if as_json:
        emit_json(summary)
        return
    click.echo(
        f"{summary['sent']} sent, {summary['retrying']} to retry, {summary['failed']} failed, "
        f"{summary['remaining']} still pending"
    )


@mail.command("retry")
@click.argument("keys", nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="every failed email")
@today_options
@json_option
def retry(keys: tuple[str, ...], all_failed: bool, today: str | None, now: str | None, as_json: bool) -> None:
    """Put failed emails back in the queue: those named by KEY (the outbox key, or its id number) and,
    with --failed, every failed email. Attempts start again from 0; each is audited. The next
    delivery (within a minute, or `drs mail deliver`) sends them.

    Without KEY and without --failed nothing is chosen for you: exit 2.
    """
    from cli.common import InputError

    if not keys and not all_failed:
        raise InputError(
            "say which emails to retry: drs mail retry KEY… (outbox key or id), or --failed for every failed email"
        )
    _, moment = resolve_clock(today, now)
    from tasks.db import unit_of_work
    from tasks.mail.failures import requeue_failed

    with unit_of_work() as db:
        done, skipped = requeue_failed(db, keys=keys, all_failed=all_failed, now=moment)  # UnknownEmails: exit 2
        db.commit()
    if as_json:
        emit_json({"requeued": [r.as_dict() for r in done], "not_failed": skipped})
        return
    for r in done:
        click.echo(f"outbox #{r.id} ({r.kind}{', case ' + r.case_ref if r.case_ref else ''}) is back in the queue")
    for key in skipped:
        click.echo(
            f"{key}: not failed (already sent or still queued) or emptied under the retention policy; left as it is"
        )
    click.echo(
        f"{len(done)} email{'s' if len(done) != 1 else ''} back in the queue"
        + ("; `drs mail deliver` sends them now" if done else "")
    )


def _bounces_direct(today, now) -> dict:
    """No Prefect server: the same job, its steps as plain calls."""
    from tasks.bounces import job

    done = job.run(today, now)
    say_skipped(done.skipped)
    return done.as_dict()


@mail.command("bounces")
@today_options
@json_option
def bounces(today: str | None, now: str | None, as_json: bool) -> None:
    """Read the bounce mailbox now (DRS_BOUNCE_MAILDIR or DRS_BOUNCE_IMAP_*); list open contact problems.

    Each bounce is matched to the email it returns by Message-ID: a hard bounce makes it a contact
    problem on its case (and, for a certificate or appeal reminder, emails the team at once).
    Auto-replies and out-of-office messages change nothing. Read notices are moved to the
    mailbox's `processed` folder.
    """
    from cli.common import fail
    from tasks.bounces.sources import BounceMailboxError

    day, moment = resolve_clock(today, now)
    try:
        summary = run_flow("flows.bounces:bounce_check", direct=lambda now: _bounces_direct(day, now), now=moment)
    except BounceMailboxError as exc:
        fail(str(exc))
        return
    if as_json:
        emit_json(summary)
        return
    if not summary["sources"]:
        click.echo("no bounce mailbox configured (set DRS_BOUNCE_MAILDIR or DRS_BOUNCE_IMAP_HOST)", err=True)
    click.echo(
        f"{summary['read']} notices read: {summary['hard']} hard bounces, {summary['soft']} soft, "
        f"{summary['not_bounces']} not bounces, {summary['unmatched']} unmatched; "
        f"{summary['escalated']} escalated to the team",
        err=True,
    )
    for p in summary["contact_problems"]:
        who = p["case_ref"] or p["la"] or "-"
        click.echo(
            f"{who}  {p['kind']:<22} {p['recipient_role']:<9} {p['status']:<7} {p['reason']}"
            f"{'  (statutory)' if p['statutory'] else ''}"
        )

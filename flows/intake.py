"""Referral intake (`referral-intake`): web-form referral files become cases, families hear back.

The work is the referral-intake job (`tasks.intake.job.run`), each step a task: it reads
`$DRS_HOME/inbox/referrals/` (or `paths`), imports each record in its own transaction (case,
first events, clocks and outbox emails together), files each file into `processed/` (and
`rejected/` with `<name>.errors.json` when records were rejected). Then what only Prefect does
(`drs intake` without a server skips it): a summary table artifact `referral-intake-summary`
(counts, reasons, case references — no names) and the new emails queued for delivery as
background tasks (`flows.delivery`).

Run by hand: `drs intake [PATH…] [--today D] [--json]`. Deployed: every 5 minutes.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.delivery import enqueue_delivery
from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task

ARTIFACT_KEY = "referral-intake-summary"


@plain_parameters
@flow(name="referral-intake", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def referral_intake(
    paths: list[str] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> dict:
    """Import web-form referrals; returns the `drs intake --json` summary.

    Args:
        paths: files or folders to read (default: the referrals inbox).
        today: the local date referrals are judged by (default: today in DRS_TIMEZONE).
        now: the moment of the run, ISO-8601 with offset (default: now).
    """
    from tasks.intake import job
    from tasks.timekeeping import resolve_now

    day, moment = resolve_now(now, today)
    summary = job.run(day, moment, paths=list(paths) if paths else None, step=as_task)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=summary.artifact_rows(),
        description=f"Referral intake for {day.isoformat()}: outcomes, rejection reasons and case references.",
    )
    if summary.outbox_ids:
        enqueue_delivery(summary.outbox_ids)
    return summary.as_dict()

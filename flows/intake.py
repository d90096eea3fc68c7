"""Referral intake (`referral-intake`): web-form referral files become cases, families hear back.

Reads `$DRS_HOME/inbox/referrals/` (or `paths`), imports each record in its own transaction
(case, first events, clocks and outbox emails together), files each file into `processed/`
(and `rejected/` with `<name>.errors.json` when records were rejected), publishes a summary
table artifact `referral-intake-summary` (counts, reasons, case references — no names), then
queues delivery of the new emails as background tasks (`flows.delivery`).

Run by hand: `drs intake [PATH…] [--today D] [--json]`. Deployed: every 5 minutes.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.delivery import enqueue_delivery
from flows.hooks import notify_team_of_failure

ARTIFACT_KEY = "referral-intake-summary"


@task(name="import-referral-files", cache_policy=NO_CACHE)
def import_referral_files(paths: list[str] | None, today: date, now: datetime) -> dict:
    """Run intake over the inbox or `paths`; returns the summary, artifact rows and new outbox ids."""
    from tasks.intake.referral_intake import run_intake

    outcome = run_intake(paths, today=today, now=now)
    return {"summary": outcome.document(), "artifact": outcome.artifact_rows(), "outbox_ids": outcome.outbox_ids}


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
    from tasks.timekeeping import resolve_now

    day, moment = resolve_now(now, today)
    result = import_referral_files(paths, day, moment)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=result["artifact"],
        description=f"Referral intake for {day.isoformat()}: outcomes, rejection reasons and case references.",
    )
    if result["outbox_ids"]:
        enqueue_delivery(result["outbox_ids"])
    return result["summary"]

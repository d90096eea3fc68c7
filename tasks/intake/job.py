"""The referral-intake job: ONE orchestrator for the `referral-intake` flow and `drs intake`.

    summary = run(today, now, paths=None, step=call)      # drs intake with no Prefect server
    summary = run(today, now, step=flows.steps.as_task)   # the referral-intake flow

Steps, in order: check the admin files (a wrong `extra-holidays.csv` or `alert-policy.json`
tells the team and never stops intake), then import the inbox or `paths`
(`tasks.intake.referral_intake.import_referral_files`). The flow adds what only Prefect can do
after `run` returns: the `referral-intake-summary` table artifact and the background delivery of
the new emails (`flows.delivery.enqueue_delivery`). The direct path does neither and says so in
`skipped`; its emails wait in the outbox for `drs mail deliver` or the `deliver-email` sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from tasks.deadlines.admin_files import check_admin_files
from tasks.intake.referral_intake import import_referral_files
from tasks.intake.summary import IntakeSummary
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

__all__ = ["SKIPPED_DIRECT", "IntakeSummary", "run"]

#: What the flow does after the orchestrator and the direct path does not.
SKIPPED_DIRECT = ("dashboard artifacts", "background delivery")


def run(
    today: date,
    now: datetime,
    *,
    paths: Sequence[str | Path] | None = None,
    step: Step = call,
    wiring: Wiring | None = None,
    wall: float | None = None,
    interval: float | None = None,
) -> IntakeSummary:
    """Import referrals from the inbox (no `paths`) or from `paths` (see the module docstring).

    Raises `IntakeInputError` (exit 2) for an explicit path that does not exist or cannot be
    read, before anything is imported."""
    with wired(wiring):
        step(check_admin_files, now)
        outcome = step(import_referral_files, paths, today=today, now=now, wall=wall, interval=interval)
    return IntakeSummary.of(outcome.results, outcome.skipped, skipped=SKIPPED_DIRECT if step is call else ())

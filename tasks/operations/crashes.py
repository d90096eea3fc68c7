"""Tell the team about a run whose machine died: one outbox email per run, references only.

A run whose machine stops (power, SIGKILL, a kernel panic) runs no hook: nobody would hear of it.
Prefect marks it Crashed once its heartbeats stop (`flows.crashes` sets that up and reads the
runs back); this module queues the team's email about each such run, keyed by the run's id, so
however many task workers report the same run, it is queued once. Prefect-free.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LostRun:
    """A flow run marked Crashed because its machine stopped sending heartbeats."""

    run_id: str
    run_name: str  # Prefect's random words: never personal data
    job: str  # the flow's (= deployment's) name
    url: str  # the run's page in the dashboard


def crash_email_key(run_id: str) -> str:
    return f"flow-crashed:{run_id}"


def queue_crash_reports(runs: Sequence[LostRun], now: datetime) -> list[int]:
    """Queue one team email per run not reported before; returns the new outbox ids."""
    from tasks.db import unit_of_work
    from tasks.mail.layout import render_email
    from tasks.mail.outbox import queue_email
    from tasks.settings import get_settings

    team = get_settings().team_email
    queued: list[int] = []
    for run in runs:
        heading = f"The scheduled job '{run.job}' stopped: its machine went away"
        text, html = render_email(
            heading,
            [
                f"Run '{run.run_name}' of '{run.job}' stopped sending heartbeats: the machine or the "
                "process running it died. It was marked Crashed, and the job's slot was freed.",
                "Nothing is lost: the work not done in this run is picked up by the job's next run. "
                "Please check that machine's worker is running again.",
                f"The run in the dashboard: {run.url}",
            ],
            sign_off="The drs-flows watch",
            footer=None,
        )
        try:
            with unit_of_work() as db:
                row = queue_email(
                    db,
                    key=crash_email_key(run.run_id),
                    kind="flow-crashed",
                    to=team,
                    subject=f"[drs-flows] {run.job} crashed (run '{run.run_name}')",
                    text=text,
                    html=html,
                    now=now,
                )
                db.commit()
                if row is not None:
                    queued.append(row.id)
        except IntegrityError:  # another task worker queued it a moment before: once is enough
            continue
    return queued

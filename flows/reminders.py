"""Flow `session-reminders`: queue the mediation-meeting reminders and outcome nudges due now.

Runs hourly in the daytime (deployment `session-reminders`, cron `0 8-20 * * *`, Europe/London).
Resolves `now` once, then runs the job (`tasks.sessions.job.run`) with each step as a task:
`find-due-meetings`, then `queue-due-reminders` writes the outbox rows (exactly once per session,
attendee, kind and session version; quiet hours 20:00-08:00 honoured). Delivery is the outbox's
job (`deliver-email`, `drs mail deliver`). Publishes a markdown artifact `session-reminders`
with counts only — no personal data.

    drs remind --now 2026-10-19T10:00+01:00 --json      # same work, from the command line
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now

if TYPE_CHECKING:
    from tasks.sessions.job import RemindersSummary


def render_summary(summary: RemindersSummary) -> str:
    """The `session-reminders` artifact: counts only."""
    kinds = ", ".join(f"{k}: {v}" for k, v in summary.by_kind.items()) or "none"
    return (
        f"## Session reminders\n\nAs of {summary.now.isoformat()}: {summary.checked} meetings checked, "
        f"**{summary.queued} queued** ({kinds}), {summary.already_queued} already queued, "
        f"{summary.deferred} held for 08:00 (quiet hours).\n"
    )


@plain_parameters
@flow(name="session-reminders", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def session_reminders(
    now: datetime | None = None,
    before: list[str] | None = None,
) -> dict:
    """Queue the session reminders and outcome nudges due at `now`; returns the counts.

    Args:
        now: The moment to act as of, with offset (default: now in Europe/London).
        before: Reminder offsets before each meeting, e.g. ["7d", "1wd"] (the default); "3h" = hours.
    """
    from tasks.sessions import job  # here: importing the flow stays light (issue 14)

    today, moment = resolve_now(now)
    summary = job.run(today, moment, before=before, step=as_task)
    create_markdown_artifact(
        key="session-reminders",
        markdown=render_summary(summary),
        description="Reminders queued by the last run (counts only)",
    )
    return summary.as_dict()

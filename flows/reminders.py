"""Flow `session-reminders`: queue the mediation-meeting reminders and outcome nudges due now.

Runs hourly in the daytime (deployment `session-reminders`, cron `0 8-20 * * *`, Europe/London).
Resolves `now` once, then one batch task asks the pure reminder rules what is due and writes
the outbox rows (exactly once per session, attendee, kind and session version; quiet hours
20:00-08:00 honoured). Delivery is the outbox's job (`deliver-email`, `drs mail deliver`).
Publishes a markdown artifact `session-reminders` with counts only — no personal data.

    drs remind --now 2026-10-19T10:00+01:00 --json      # same work, from the command line
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.hooks import notify_team_of_failure
from tasks.sessions.reminders import queue_due_reminders
from tasks.timekeeping import resolve_now


@task(name="queue-due-reminders", cache_policy=NO_CACHE)
def queue_due_reminders_task(now: datetime, before: list[str] | None) -> dict:
    """Queue every reminder and nudge due at `now`; returns the counts."""
    return queue_due_reminders(now, before)


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
    _, moment = resolve_now(now)
    summary = queue_due_reminders_task(moment, before)
    kinds = ", ".join(f"{k}: {v}" for k, v in summary["by_kind"].items()) or "none"
    create_markdown_artifact(
        key="session-reminders",
        markdown=(
            f"## Session reminders\n\nAs of {summary['now']}: {summary['checked']} meetings checked, "
            f"**{summary['queued']} queued** ({kinds}), {summary['already_queued']} already queued, "
            f"{summary['deferred']} held for 08:00 (quiet hours).\n"
        ),
        description="Reminders queued by the last run (counts only)",
    )
    return summary

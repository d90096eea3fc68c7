"""retention — weekly (Sundays 04:30): anonymise the personal data of long-closed cases.

A case closed more than `models.domain.operations.RETENTION_MONTHS` months ago (24, the service's
policy) loses its personal data; figures, codes and references stay so reports still add up. The
work is `tasks.privacy.job.run` (see `tasks/privacy/retention.py` for exactly what is removed;
`tasks/privacy/file_retention.py` also deletes copies of personal data on disk older than the
period); cases on legal hold and their files are kept. This flow runs each step as a task and
publishes the markdown artifact `retention` (counts and case references only).

Run it: `prefect deployment run retention/retention`, or in Python `retention(today=...)`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now


@plain_parameters
@flow(name="retention", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def retention(today: date | None = None) -> dict[str, Any]:
    """Anonymise the personal data of cases closed more than the retention period ago.

    Args:
        today: Run as if it were this day (default: today, Europe/London).
    """
    from tasks.privacy import job  # here: importing the flow stays light (issue 14)

    today, now = resolve_now(None, today)
    summary = job.run(today, now, step=as_task)
    create_markdown_artifact(
        key="retention",
        description="Cases anonymised by the retention policy (references only)",
        markdown=summary.artifact_markdown(today),
    )
    return summary.as_dict()

"""The monthly report, one orchestrator: `run(month, now, *, step, wiring, ...) -> ReportSummary`.

Resolve the month, write the workbooks (the full one and one per LA, from one build of the
figures), queue them by email. The `monthly-report` flow runs it with `step=flows.steps.as_task`
(each step a task on the dashboard) and adds its artifacts; `drs report monthly` with no Prefect
server runs it with `step=call`. Both return `ReportSummary.as_dict()`, the same document.

A late Prefect run (picked up after downtime) for a month a newer run already did does nothing:
the flow passes `superseded(month)`, which names that newer run (Prefect-only: it asks the API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.errors import InvalidInput
from reports.monthly.rows import parse_month, previous_month
from tasks.reporting.emails import EmailsQueued, queue_monthly_emails
from tasks.reporting.workbooks import Workbooks, write_monthly_workbooks
from tasks.steps import Step, call
from tasks.timekeeping import resolve_now
from tasks.wiring import Wiring, wired

#: what the direct path (no Prefect server) does not do
DIRECT_SKIPS = ("dashboard artifacts (monthly-report-link, monthly-report-kpis)", "superseded-run check")


class ReportError(InvalidInput):
    """A month that cannot be reported (bad or future month); the message says why."""


def resolve_month(month: str | None, today: date) -> str:
    """`month` checked (`YYYY-MM`, not after `today`'s month), or the month just ended."""
    if month is None:
        return previous_month(today)
    try:
        first = parse_month(month)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    if first > today:
        raise ReportError(f"month {month} has not started yet")
    from models.domain.fields import date_problem

    if date_problem(first):  # a month before 2000 is a typo, not a report to email every LA
        raise ReportError(f"month {month} {date_problem(first)}")
    return f"{first.year:04d}-{first.month:02d}"


@dataclass(frozen=True)
class ReportSummary:
    """What a monthly report run did. `as_dict()` is `drs report monthly --json` and the flow's return."""

    month: str
    workbooks: Workbooks | None = None
    emails: EmailsQueued | None = None
    superseded_by: str | None = None  # a newer run that already did this month: nothing done
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        if self.workbooks is None or self.emails is None:
            return {"month": self.month, "superseded_by": self.superseded_by}
        return {**self.workbooks.as_dict(), "emails": self.emails.as_dict()}


def run(
    month: str | None,
    now: datetime | None = None,
    *,
    today: date | None = None,
    out: str | None = None,
    resend: bool = False,
    step: Step = call,
    wiring: Wiring | None = None,
    superseded: Callable[[str], str | None] | None = None,
) -> ReportSummary:
    """Write and queue the report of `month` (default: the month just ended as at `today`/`now`).

    `superseded(month)` (the flow's) names a newer run that already did the month: then nothing
    is done. Without it (the direct path) the summary's `skipped` says what only Prefect does."""
    with wired(wiring):
        today, now = resolve_now(now, today)
        month = resolve_month(month, today)
        skipped = () if superseded is not None else DIRECT_SKIPS
        newer = superseded(month) if superseded is not None else None
        if newer is not None:
            return ReportSummary(month, superseded_by=newer)
        books = step(write_monthly_workbooks, month, now, out)
        emails = step(queue_monthly_emails, month, books, now, resend)
        return ReportSummary(month, books, emails, skipped=skipped)

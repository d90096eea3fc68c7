"""deadline-monitor — no statutory date passes unseen, certificates go out on time.

Daily early morning and at midday (see flows/deployments.py): refreshes clocks computed under an
old rule set or holiday file, marks missed clocks, issues the certificates families are owed
after declining mediation, alerts the owner of every clock due soon, due today or missed (each
alert once), queues the team's daily digest, and publishes the `deadline-digest` table artifact
(references only). When an LA wants certificates approved first, the run then pauses for each
one with a typed form (approve, reason) in the dashboard and issues it on approval.

The job itself is `tasks.deadlines.job.run` (the same orchestrator `drs monitor` runs directly when
no server is reachable); this flow runs its steps as tasks and adds the Prefect-only extras: the
digest artifacts, the `today` screen and the approval pauses.

Run it: `drs monitor [--today D]`, `prefect deployment run deadline-monitor/deadline-monitor`, or
in Python `deadline_monitor(today=date(2026, 11, 30))`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput
from pydantic import Field

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now

if TYPE_CHECKING:  # the job's modules are imported by the flow's run (importing the flow stays light)
    from models.domain.digest import DigestRow
    from tasks.deadlines.due_certificates import CertificateWork
    from tasks.deadlines.job import MonitorSummary


class CertificateApproval(RunInput):
    """The dashboard form shown when a run pauses for a certificate that needs approval."""

    approve: bool = Field(default=False, description="Issue this certificate now")
    reason: str = Field(default="", max_length=500, description="Why (kept with the certificate; no personal details)")


def _publish(today: date, rows: tuple[DigestRow, ...]) -> None:
    """The `deadline-digest` table and the `deadline-digest-summary` markdown (references only),
    each at most `ARTIFACT_ROWS` clocks long with a line saying where the rest are (issue 14)."""
    from tasks.deadlines.digest import ARTIFACT_ROWS, artifact_table, digest_markdown

    create_table_artifact(
        key="deadline-digest",
        table=artifact_table(today, rows),
        description=f"Clocks due in the next 5 working days and missed ones, {today.isoformat()} (references only)",
    )
    create_markdown_artifact(
        key="deadline-digest-summary",
        markdown=digest_markdown(today, list(rows), limit=ARTIFACT_ROWS),
        description="The deadline digest by local authority (references only)",
    )


def _carry_on_after_timeout() -> None:
    """An unanswered approval is not a failure: put the paused run back to Running so that it can
    complete (Prefect would otherwise fail it as "completed and never resumed")."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.states import Running

    context = FlowRunContext.get()
    assert context is not None and context.flow_run is not None  # called from the flow's own run
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            context.flow_run.id, Running(message="no answer to the certificate approval in time"), force=True
        )


def _ask(item: CertificateWork, n: int, of: int, timeout: int, poll_seconds: int) -> CertificateApproval:
    """Pause the run with the approval form for `item` (raises `FlowPauseTimeout` unanswered)."""
    from prefect.flow_runs import pause_flow_run

    form = CertificateApproval.with_initial_data(
        description=(
            f"Case {item.case_ref}: the family declined mediation on {item.trigger_on}. "
            f"The LA asks for approval before the {item.type} certificate is issued. "
            f"Approve to issue it today ({n} of {of})."
        ),
        approve=False,
        reason="",
    )
    return pause_flow_run(
        wait_for_input=form,
        timeout=timeout,
        poll_interval=poll_seconds,
        key=f"certificate-{item.case_ref}-{item.type}-{item.trigger_on}".lower(),
    )


def _wait_for_approvals(
    summary: MonitorSummary, today: date, now: datetime, timeout_seconds: int, poll_seconds: int
) -> MonitorSummary:
    """One pause per certificate awaiting approval, within one time budget; issue or refuse each
    as answered. Returns the summary after the answers."""
    import time

    from prefect.exceptions import FlowPauseTimeout

    from tasks.deadlines.due_certificates import issue_approved, refuse_one

    waiting = summary.awaiting_approval
    budget_ends = time.monotonic() + timeout_seconds  # one budget for all: the midday run must not wait
    for n, item in enumerate(waiting, start=1):
        remaining = int(budget_ends - time.monotonic())
        if remaining < 1:
            break
        try:
            answer = _ask(item, n, len(waiting), remaining, poll_seconds)
        except FlowPauseTimeout:
            _carry_on_after_timeout()
            break  # the rest stay awaiting approval; the next run asks again
        if answer.approve:
            summary = summary.answered(item, as_task(issue_approved, item, today, now, answer.reason))
        else:
            as_task(refuse_one, item, now, answer.reason)
            summary = summary.answered(item, None)
    return summary


@plain_parameters
@flow(name="deadline-monitor", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def deadline_monitor(
    today: date | None = None,
    now: datetime | None = None,
    wait_for_approval: bool = True,
    approval_timeout_seconds: int = 7200,
    approval_poll_seconds: int = 10,
) -> dict:
    """Deadline monitoring: clocks, alerts, digest, certificates. Returns the run's summary.

    Args:
        today: Monitor as of this date (default: today in Europe/London).
        now: The moment of the run (default: now); wins over `today`.
        wait_for_approval: Pause for an admin's approval of certificates the LA wants approved
            (False: report them as awaiting approval and finish).
        approval_timeout_seconds: How long the run waits for answers in all (one pause per
            certificate); after that it finishes and the certificates still waiting are asked
            about again by the next run.
        approval_poll_seconds: How often a paused run checks for the answer.
    """
    from flows.heartbeat import job_history
    from flows.today import publish_today
    from tasks.deadlines import job

    today, now = resolve_now(now, today)
    summary = job.run(today, now, step=as_task, job_history=job_history)
    # the Prefect-only extras: the digest artifacts, the Today screen, the approval pauses
    _publish(today, summary.digest)
    publish_today(today, now)
    if wait_for_approval and summary.awaiting_approval:
        summary = _wait_for_approvals(summary, today, now, approval_timeout_seconds, approval_poll_seconds)
    return summary.as_dict()

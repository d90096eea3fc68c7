"""`expense-routing`: families' expense claims in, checked, batched per LA and sent to finance.

Each run (weekday mornings): imports claim files waiting in `$DRS_HOME/inbox/claims/`, checks any
claim still `pending`, batches every approved unsent claim per LA into one workbook emailed to the
LA's finance team (`tasks.claims.routing`), and publishes a table artifact `expense-routing-batches`
(batches per LA, counts, totals — no names). When claims are `held` (outside policy, an admin may
allow them) and `admin_wait_minutes` > 0, it then asks an admin in the dashboard — one typed
approve/refuse form per held claim, showing only the claim id, case reference and the reason — in
a sub-flow `expense-claim-decision`; each answer is committed at once, approved claims are
batched straight away, and claims not answered in time stay held for the next run (the sub-flow
ends Failed on timeout; this run still completes).

The work is `tasks.claims.job.run` (the same orchestrator `drs claims route` runs with no server):
here each step runs as a task, the admin's decisions are the Prefect pause, and the table artifact
is published. When one LA's routing fails, every other LA is still routed, the artifact is
published, and the run then ends Failed (`RoutingFailed`, carrying the summary), so the dashboard
shows it and the failure hook emails the team.

Run it: `drs claims route` (no admin wait), or the `expense-routing` deployment.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task
from tasks.timekeeping import resolve_now

if TYPE_CHECKING:
    from tasks.claims import job


class HeldClaimDecision(RunInput):
    """An admin's decision on one held expense claim."""

    decision: Literal["approve", "refuse"] = Field(
        description="approve: pay it in the next batch; refuse: the family is told why"
    )
    reason: str = Field(min_length=1, description="why (a refusal reason is emailed to the family)")


@cache
def _route_with_retries() -> Any:
    """Routing is safe to retry (the exported-state guard): its task retries, like before."""
    from tasks.claims.routing import route_claims

    return task(name="route-claims", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)(route_claims)


def _step(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """`flows.steps.as_task`, with retries for the routing step."""
    from tasks.claims.routing import route_claims  # loaded by the job already

    if fn is route_claims:
        return _route_with_retries()(*args, **kwargs)
    return as_task(fn, *args, **kwargs)


@task(cache_policy=NO_CACHE)
def record_decision(claim_id: str, approve: bool, reason: str, now: datetime) -> dict[str, Any]:
    """Commit one admin decision."""
    from tasks.claims.held import ClaimError, decide_held_claim

    try:
        return decide_held_claim(claim_id, approve, reason, now, decided_by="admin (dashboard)")
    except ClaimError as exc:  # decided elsewhere meanwhile (CLI, another run)
        return {"claim_id": claim_id, "status": "unchanged", "note": str(exc)}


@flow(name="expense-claim-decision", log_prints=False)
def expense_claim_decision(
    claims: list[dict[str, Any]], wait_seconds: int, now: datetime, poll_seconds: int = 10
) -> list[dict[str, Any]]:
    """Ask an admin to approve or refuse each held claim (pause for input); stops at the deadline."""
    started = time.monotonic()
    deadline = started + wait_seconds
    decided = []
    for item in claims:
        left = int(deadline - time.monotonic())
        if left <= 0:
            break
        form = HeldClaimDecision.with_initial_data(
            description=(
                f"**Held expense claim {item['claim_id']}** (case {item['case_ref']}, "
                f"£{item['amount_pence'] / 100:,.2f}).\n\nWhy it is held: {item['reason'] or '-'}\n\n"
                "Approve it for the next finance batch, or refuse it with a reason the family will read."
            ),
            reason="",
        )
        answer = pause_flow_run(
            wait_for_input=form,
            timeout=left,
            poll_interval=min(poll_seconds, max(1, left)),
            key=_pause_key(item["claim_id"]),
        )
        decided_at = now + timedelta(seconds=int(time.monotonic() - started))  # the run's clock, moved on
        decided.append(record_decision(item["claim_id"], answer.decision == "approve", answer.reason, decided_at))
    return decided


def _pause_key(claim_id: str) -> str:
    """A pause key Prefect accepts (lowercase letters, digits, dashes) that is stable per claim."""
    import hashlib

    return "held-claim-" + hashlib.sha1(claim_id.encode()).hexdigest()[:16]


def _asking_an_admin(wait_minutes: float, poll_seconds: int, now: datetime) -> job.Decide:
    """The flow's `decide` for the orchestrator: the `expense-claim-decision` sub-flow (None: not asked)."""

    def decide(held: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool] | None:
        if wait_minutes <= 0:
            return None
        state = expense_claim_decision(held, int(wait_minutes * 60), now, poll_seconds, return_state=True)
        if state.is_completed():
            return state.result(), True
        get_run_logger().warning("held claims not all decided in time; they wait for the next run")
        return [], False

    return decide


def _publish(summary: job.ClaimsSummary, today: date) -> None:
    rows = summary.batches_table()
    create_table_artifact(
        key="expense-routing-batches",
        table=rows or [{"la": "-", "batch": "-", "claims": 0, "total": "£0.00", "note": "nothing to send"}],
        description=f"Expense claim batches sent on {today.isoformat()}: per LA, count and total (no names).",
    )


@plain_parameters
@flow(name="expense-routing", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def expense_routing(
    today: Annotated[date | None, Field(description="the day to run as (default: today in DRS_TIMEZONE)")] = None,
    now: Annotated[datetime | None, Field(description="the moment to run as (default: now)")] = None,
    admin_wait_minutes: Annotated[
        float, Field(ge=0, description="how long to wait for an admin to decide held claims (0: do not ask)")
    ] = 0,
    admin_poll_seconds: Annotated[
        int, Field(ge=1, description="how often a paused decision checks for the answer")
    ] = 10,
) -> dict[str, Any]:
    """Import, check and route expense claims; returns the same summary as `drs claims route --json`.

    Args:
        today: The day to run as (default: today in DRS_TIMEZONE).
        now: The moment to run as (default: now).
        admin_wait_minutes: How long to wait for an admin to approve or refuse held claims in the
            dashboard after routing (0: do not ask; they stay held).
        admin_poll_seconds: How often a paused decision checks for the admin's answer.
    """
    from tasks.claims import job  # here: importing the flow stays light (issue 14)

    today, now = resolve_now(now, today)
    summary = job.run(today, now, step=_step, decide=_asking_an_admin(admin_wait_minutes, admin_poll_seconds, now))
    _publish(summary, today)
    get_run_logger().info(
        "expense routing: %d batch(es), %d claim(s) sent", len(summary.routed.batches), summary.claims_sent
    )
    if summary.failed:  # the others were sent; this run fails so the team is told
        raise job.RoutingFailed(summary)
    return summary.as_dict()

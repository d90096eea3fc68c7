"""The watch inside `drs serve`: every minute, start work only when there is some.

Why: a schedule that fires every minute "just in case" fills Prefect's database with ~1,300 empty
runs a day. Instead `drs serve` (a long-lived process) looks every `INTERVAL_S` seconds, round
the clock (a loop, not a cron, so the 01:00-03:00 clock-change pause does not apply):

- **outbox**: rows due now that no background task is about to send (`tasks.operations.waiting`) are handed
  to the `deliver-outbox-batch` background task in batches — task runs, not flow runs. This is
  what gives every email its first attempt within about a minute even when it was queued by a
  command run without a server, and what sends retries when their back-off is over;
- **inbox**: when referral files are waiting and no `referral-intake` run is already scheduled,
  pending or running, it starts one from the deployment (wherever it is served: here or on a
  worker).

The hourly `deliver-email` and `referral-intake` schedules stay as safety sweeps for when
`drs serve` is not running. A failed check is said once on stderr and tried again next minute;
it never stops the scheduler.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import click

INTERVAL_S = 60.0
INTAKE = "referral-intake"


async def watch(interval_s: float = INTERVAL_S, rounds: int | None = None) -> None:
    """Check the outbox and the inbox every `interval_s` seconds (`rounds` times, default forever)."""
    last_error: dict[str, str] = {}
    n = 0
    while rounds is None or n < rounds:
        n += 1
        await asyncio.sleep(interval_s)
        for name, check in (("outbox", check_outbox), ("inbox", check_inbox)):
            try:
                await check()
                last_error.pop(name, None)
            except Exception as exc:  # noqa: BLE001 — never stop the scheduler
                text = f"{type(exc).__name__}"
                if last_error.get(name) != text:
                    click.echo(f"drs serve: could not check the {name} ({text}); trying again each minute", err=True)
                last_error[name] = text


async def check_outbox(now: datetime | None = None) -> int:
    """Queue background delivery of what is due and not on its way; returns how many emails."""
    from tasks.operations.waiting import outbox_waiting

    ids = await asyncio.to_thread(outbox_waiting, now or datetime.now(UTC))
    if ids:
        from flows.delivery import enqueue_delivery

        await asyncio.to_thread(enqueue_delivery, ids)
    return len(ids)


async def check_inbox() -> bool:
    """Start a `referral-intake` run when files wait and none is on its way; True if started."""
    from tasks.intake.referral_intake import inbox_dir
    from tasks.operations.waiting import referral_files_waiting

    if not await asyncio.to_thread(referral_files_waiting, inbox_dir()):
        return False
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(f"{INTAKE}/{INTAKE}")
        except ObjectNotFound:
            return False
        if deployment.paused or await _run_on_its_way(client, deployment.id):
            return False
        await client.create_flow_run_from_deployment(deployment.id, tags=["inbox-watch"])
    return True


async def _run_on_its_way(client, deployment_id) -> bool:
    """Is a run of the deployment running, pending, or scheduled to start within two minutes?"""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING])
            ),
        ),
        limit=20,
    )
    soon = datetime.now(UTC) + timedelta(minutes=2)
    return any(
        run.state_type != StateType.SCHEDULED
        or (run.expected_start_time is not None and run.expected_start_time <= soon)
        for run in runs
    )

"""A machine that dies mid-run: its flow run is marked Crashed, the team is told, the slot freed.

A run whose machine dies (power cut, SIGKILL of the worker and the run's process) runs no
`on_crashed` hook and would stay `Running` for ever, holding its job's concurrency slot. So:

1. every run started by a worker (or `drs serve`) sends a heartbeat event every
   `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` seconds (Prefect's setting, 180 by default, at least 30;
   set the same value on every machine, e.g. 60);
2. a Prefect automation (`ensure_crash_automation`, created or updated by every `drs worker tasks`
   and `drs serve` at start) watches them: a run whose last heartbeat is older than
   `crash_after_seconds()` (two heartbeats and 15 s) without it having ended is changed to
   Crashed with `CRASH_MESSAGE` — Prefect's documented way to catch "zombie" runs. A machine
   never shortens the wait another machine set (its runs may beat less often): to shorten it,
   `prefect automation delete` it and restart the task workers. Leaving
   Running releases the deployment's concurrency slot, so the job's next run can start;
3. `watch_crashes` (in every `drs worker tasks` and `drs serve`, as often as heartbeats come, at
   most every minute) reads the runs Crashed with that message and queues one team email per run
   (`tasks.operations.crashes`: keyed by the run's id, so several task workers queue it once).

A run started in-process by a `drs` command sends no heartbeat and is never judged by this.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

AUTOMATION_NAME = "drs-flows: a run whose machine died is Crashed"
CRASH_MESSAGE = "No heartbeat from the machine running this flow run: it was marked Crashed (drs-flows automation)."
#: How far back `report_crashed_runs` looks for runs to report.
LOOK_BACK = timedelta(days=2)


def heartbeat_seconds() -> int:
    """The flow-run heartbeat interval of this machine's Prefect settings (Prefect's minimum 30)."""
    from prefect.settings import get_current_settings

    return max(30, int(get_current_settings().flows.heartbeat_frequency or 180))


def crash_after_seconds(heartbeat: int | None = None) -> int:
    """Silence after which a running flow run counts as dead: two missed heartbeats, plus 15 s."""
    return 2 * (heartbeat or heartbeat_seconds()) + 15


def crash_automation(within_s: int | None = None):
    """The automation (not yet saved): after a heartbeat, expect another heartbeat or an end."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    within = within_s or crash_after_seconds()
    return AutomationCore(
        name=AUTOMATION_NAME,
        description=f"A flow run that sent no heartbeat for {within} s and did not end is Crashed "
        "(its machine died); `drs worker tasks` then emails the team. Created by drs-flows.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within),
        ),
        actions=[ChangeFlowRunState(name=None, state=StateType.CRASHED, message=CRASH_MESSAGE, force=False)],
    )


async def ensure_crash_automation(within_s: int | None = None):
    """Create the automation, or bring the existing one up to date; returns its id. Idempotent,
    and two machines starting at once end with one automation (the extra is deleted)."""
    from prefect.client.orchestration import get_client

    wanted = crash_automation(within_s)
    async with get_client() as client:
        existing = await client.read_automations_by_name(AUTOMATION_NAME)
        if not existing:
            await client.create_automation(wanted)
            existing = await client.read_automations_by_name(AUTOMATION_NAME)
        keep, *extra = sorted(existing, key=lambda a: str(a.id))
        for automation in extra:
            await client.delete_automation(automation.id)
        stored = getattr(keep.trigger, "within", None)
        if stored is not None and stored > wanted.trigger.within:
            # another machine sends heartbeats less often: never judge its runs by ours
            wanted = crash_automation(int(stored.total_seconds()))
        if keep.trigger != wanted.trigger or keep.actions != wanted.actions or not keep.enabled:
            await client.update_automation(keep.id, wanted)
    return keep.id


async def lost_runs(client, since: datetime) -> list:
    """The flow runs the automation marked Crashed since `since`, as `LostRun`s."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_UI_URL

    from tasks.operations.crashes import LostRun

    crashed = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=since),  # type: ignore[arg-type]
    )
    ui = PREFECT_UI_URL.value() or "http://127.0.0.1:4200"
    flows: dict = {}
    found = []
    for run in await client.read_flow_runs(flow_run_filter=crashed, limit=200):
        if not run.state or run.state.message != CRASH_MESSAGE:
            continue  # crashed with its machine alive: the run's own hook told the team
        if run.flow_id not in flows:
            flows[run.flow_id] = (await client.read_flow(run.flow_id)).name
        found.append(LostRun(str(run.id), run.name, flows[run.flow_id], f"{ui}/runs/flow-run/{run.id}"))
    return found


async def report_crashed_runs(now: datetime | None = None) -> list[int]:
    """Queue the team's email about each run lost with its machine (once per run) and hand it to
    the task workers; returns the outbox ids queued now."""
    from prefect.client.orchestration import get_client

    from tasks.operations.crashes import queue_crash_reports

    now = now or datetime.now(UTC)
    async with get_client() as client:
        runs = await lost_runs(client, now - LOOK_BACK)
    if not runs:
        return []
    ids = await asyncio.to_thread(queue_crash_reports, runs, now)
    if ids:
        from flows.delivery import enqueue_delivery

        await asyncio.to_thread(enqueue_delivery, ids)
    return ids


async def watch_crashes(interval_s: float | None = None, rounds: int | None = None) -> None:
    """`report_crashed_runs` every `interval_s` seconds (default: the heartbeat interval, at most
    a minute), `rounds` times (default for ever). A failed check is logged and tried again."""
    interval = interval_s or min(60, heartbeat_seconds())
    n = 0
    while rounds is None or n < rounds:
        n += 1
        try:
            await report_crashed_runs()
        except Exception as exc:  # noqa: BLE001 — never stop the task worker
            log.warning("could not check for crashed runs (%s); trying again", type(exc).__name__)
        await asyncio.sleep(interval)

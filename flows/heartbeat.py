"""The heartbeat: when each deployment last completed successfully, read from the Prefect API.

Used by the watchdog (has the deadline monitor completed today?) and by the daily digest ("when
each job last succeeded"). Counted by *flow name* (= deployment name), so a run started from the
CLI (`drs monitor` against the server) counts as much as a scheduled one.

Needs `PREFECT_API_URL` (it runs inside flows, which always have it). Never raises for an
unreachable API: `last_successes` then returns `None` for every name and `api_error` says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Heartbeat:
    """Last successful end time (aware, UTC) per flow name; None = never (or API unreachable)."""

    last_success: dict[str, datetime | None] = field(default_factory=dict)
    api_error: str | None = None

    def lines(self, now: datetime, tz: str = "Europe/London") -> list[str]:
        """One line per job for a digest: 'referral-intake: last succeeded 28 Nov 09:35 (12 min ago)'."""
        if self.api_error:
            return [f"(the job history could not be read: {self.api_error})"]
        zone = ZoneInfo(tz)
        out = []
        for name, when in self.last_success.items():
            if when is None:
                out.append(f"{name}: no successful run yet")
                continue
            local = when.astimezone(zone)
            out.append(f"{name}: last succeeded {local:%d %b %H:%M} ({_ago(now - when)})")
        return out


def _ago(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} days ago"


def last_successes(flow_names: list[str] | tuple[str, ...]) -> Heartbeat:
    """The latest COMPLETED end time of each flow in `flow_names`, from the Prefect API.

    One read per flow, all at once (issue 14: nine reads one after the other cost a run ~0.2 s);
    when a read fails the answer is the first failure in `flow_names` order, as before."""
    from prefect.utilities.asyncutils import run_coro_as_sync

    try:
        ends = cast(list[datetime | None | BaseException], run_coro_as_sync(_read_last_successes(list(flow_names))))
    except Exception as exc:  # the heartbeat must never break the job that reads it
        return Heartbeat({name: None for name in flow_names}, f"{type(exc).__name__}")
    result: dict[str, datetime | None] = {}
    for name, end in zip(flow_names, ends, strict=True):
        if isinstance(end, Exception):
            return Heartbeat(dict.fromkeys(flow_names), f"{type(end).__name__}")
        if isinstance(end, BaseException):  # a cancellation is not an unreadable history
            raise end
        result[name] = end
    return Heartbeat(result)


async def _read_last_successes(flow_names: list[str]) -> list[datetime | None | BaseException]:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:

        async def last_end(name: str) -> datetime | None:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
                ),
                sort=FlowRunSort.END_TIME_DESC,
                limit=1,
            )
            return runs[0].end_time if runs else None

        return await asyncio.gather(*(last_end(name) for name in flow_names), return_exceptions=True)


def newer_completed_run(
    flow_name: str, run_id: str, expected_start: datetime, same_period: Callable[[dict[str, Any], datetime], bool]
) -> str | None:
    """Id of a COMPLETED run of `flow_name` that was due after `expected_start` and covered the
    same period (`same_period(its parameters, its expected start)`), or None.

    After downtime a worker may start runs that were due hours ago; such a late run that finds a
    newer completed run of itself for the same period can stop at once. Never raises: when the
    history cannot be read the answer is None (the run then does its work, which is idempotent).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    try:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED])),
                    expected_start_time=FlowRunFilterExpectedStartTime(after_=expected_start),  # type: ignore[arg-type]  # pydantic coerces a datetime
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=50,
            )
    except Exception:  # never let the check break the run
        return None
    for run in runs:
        if str(run.id) == str(run_id) or run.expected_start_time is None or run.expected_start_time <= expected_start:
            continue
        try:
            if same_period(dict(run.parameters or {}), run.expected_start_time):
                return str(run.id)
        except Exception:
            continue
    return None


#: The digest's line when the job history is not read because no Prefect server is reachable.
NO_SERVER = "no Prefect server reachable"


def job_history(now: datetime) -> list[str]:
    """The foot of the team's digest: when each scheduled job last succeeded, from the Prefect API
    (never raises: an unreachable API becomes a line saying so)."""
    return ["When each scheduled job last succeeded:", *scheduled_heartbeat().lines(now)]


def job_history_without_server(now: datetime) -> list[str]:
    """The same foot when the caller knows no Prefect server is reachable (`drs monitor` run
    directly): the line says so at once, without asking the API (and never starts a temporary server)."""
    from flows.deployments import SCHEDULED

    beat = Heartbeat({spec.name: None for spec in SCHEDULED}, NO_SERVER)
    return ["When each scheduled job last succeeded:", *beat.lines(now)]


def scheduled_heartbeat() -> Heartbeat:
    """When each scheduled job (`flows.deployments.SCHEDULED`) last succeeded (the watchdog's read)."""
    from flows.deployments import SCHEDULED

    return last_successes([spec.name for spec in SCHEDULED])

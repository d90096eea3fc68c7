"""`drs serve`: serve every deployment on its schedule, plus the background-task worker, in one process.

Needs a running Prefect server: `PREFECT_API_URL`, or the one `make run` started and recorded in
`$PREFECT_HOME/server.json`. Without one it refuses (exit 2): serving against Prefect's temporary
server would register deployments nobody can see.

What it does: loads each deployment of `flows/deployments.py` (a deployment whose flow cannot be
loaded is skipped and named on stderr), registers it with its Europe/London cron schedules
and a concurrency limit of one, starts one run of each `--start-now` deployment (after the
registration, so it cannot race it), then polls for scheduled runs (each run executes in a child
process) while a task worker in the same event loop runs background tasks (`task.delay(...)`)
and a watch (`cli.watch`) hands due email to it and starts intake when files wait, every minute;
it also keeps the automation that marks a run whose machine died Crashed, and reports such runs
to the team (`flows.crashes`).
Ctrl-C or SIGTERM stops both; Prefect pauses the schedules on the way out and `drs serve`
un-pauses them on the next start.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC

import click

from cli.common import InputError, configure_prefect_env, prefect_server_url


def require_server() -> str:
    """The API URL of a reachable Prefect server, or `InputError` saying how to get one."""
    configured = os.environ.get("PREFECT_API_URL")
    url = prefect_server_url()
    if url:
        return url
    if configured:
        raise InputError(
            f"the Prefect server at PREFECT_API_URL={configured} is not reachable; start it or fix the address"
        )
    raise InputError(
        "no Prefect server: start one with `make run` (it serves too), or set PREFECT_API_URL to a running server"
    )


def build_deployments(names: tuple[str, ...] = (), echo=None) -> tuple[list, list[str]]:
    """(RunnerDeployments to serve, lines naming what was skipped and why)."""
    from flows.deployments import DEPLOYMENTS, FlowNotAvailable, load_flow, to_runner_deployment

    echo = echo or (lambda line: click.echo(line, err=True))
    unknown = [n for n in names if n not in {s.name for s in DEPLOYMENTS}]
    if unknown:
        raise InputError(f"unknown deployment {unknown[0]!r} (see `python -m flows.deployments list`)")
    deployments, skipped = [], []
    for spec in DEPLOYMENTS:
        if names and spec.name not in names:
            continue
        try:
            flow, note = load_flow(spec)
        except FlowNotAvailable as exc:
            skipped.append(f"{spec.name}: {exc}")
            continue
        if note:
            echo(f"drs serve: {spec.name}: {note}")
        deployments.append(to_runner_deployment(spec, flow))
    return deployments, skipped


async def _serve(deployments: list, tasks: list, run_once: bool = False, start_now: tuple[str, ...] = ()) -> None:
    """Register `deployments`, start one run of each of `start_now`, then run the scheduler, the
    task worker and the inbox/outbox watch (`cli.watch`) until cancelled."""
    import asyncio

    from prefect.runner import Runner

    runner = Runner(name="drs-serve", pause_on_shutdown=True, limit=None)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    await _resume_schedules(deployments)
    if start_now:
        await _start_now(start_now)
    if run_once:
        return
    jobs = [runner.start()]
    if tasks:
        from prefect.task_worker import aserve as serve_tasks

        from cli.watch import watch
        from flows.crashes import ensure_crash_automation, watch_crashes

        jobs.append(serve_tasks(*tasks, limit=4))
        jobs.append(watch())
        try:  # a run whose machine dies is marked Crashed and reported (as `drs worker tasks` does)
            await ensure_crash_automation()
            jobs.append(watch_crashes())
        except Exception as exc:  # noqa: BLE001 — serving matters more; said once
            click.echo(f"drs serve: could not create the crash automation ({type(exc).__name__})", err=True)
    await asyncio.gather(*jobs)


async def _start_now(names: tuple[str, ...]) -> list[str]:
    """Create one flow run of each deployment in `names`, now that they are registered and
    un-paused (so the first `watchdog` run — the `today` screen — never races the registration).
    Returns the names started; says on stderr which ones."""
    import asyncio

    from prefect.client.orchestration import get_client

    started = []
    async with get_client() as client:
        for name in names:
            for attempt in range(5):  # a busy server (its SQLite locked a moment) is asked again
                try:
                    deployment = await client.read_deployment_by_name(f"{name}/{name}")
                    await client.create_flow_run_from_deployment(deployment.id, tags=["start-now"])
                except Exception as exc:  # noqa: BLE001 — a missing extra run must not stop serving
                    if attempt < 4:
                        await asyncio.sleep(1 + attempt)
                        continue
                    click.echo(f"drs serve: could not start {name} now ({type(exc).__name__})", err=True)
                    break
                started.append(name)
                break
    if started:
        click.echo(f"drs serve: started now: {', '.join(started)}", err=True)
    return started


#: A scheduled run this much overdue at start-up is backlog from downtime (see `_drop_late_backlog`).
LATE_AFTER_SECONDS = 300


async def _resume_schedules(deployments: list) -> None:
    """Un-pause the deployments a previous `drs serve` paused on shutdown, and drop late backlog."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        ids = []
        for deployment in deployments:
            current = await client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}")
            ids.append(current.id)
            if current.paused:
                await client.resume_deployment(current.id)
        try:
            dropped = await _drop_late_backlog(client, ids)
        except Exception as exc:  # housekeeping must never stop the scheduler
            click.echo(f"drs serve: could not drop overdue runs ({type(exc).__name__}: {exc})", err=True)
            dropped = 0
    if dropped:
        click.echo(
            f"drs serve: dropped {dropped} overdue scheduled run(s) left from downtime "
            "(one catch-up run per job is kept)",
            err=True,
        )


async def _drop_late_backlog(client, deployment_ids: list) -> int:
    """After downtime (a crash: a clean stop pauses the schedules and removes future runs) each job
    may have many overdue scheduled runs — 120 `deliver-email` runs after two hours. Keep the most
    recent overdue run of each deployment (it catches up: every flow works out what is due from the
    database) and delete the older ones, so late runs do not pile up.

    Kept by hand because Prefect 3.9 (open source) has no equivalent: its `late_runs` service only
    renames overdue runs "Late" (still type SCHEDULED, so the runner still executes every one), the
    runner has no catch-up switch, and an automation on "Late" would cancel the newest overdue run
    too — the one catch-up run we want to keep."""
    from datetime import datetime, timedelta

    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    cutoff = datetime.now(UTC) - timedelta(seconds=LATE_AFTER_SECONDS)
    overdue = FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=deployment_ids),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff),  # type: ignore[arg-type]  # pydantic coerces a datetime
    )
    dropped = 0
    while True:  # the API pages at 200; the runs kept come first in every page
        runs = await client.read_flow_runs(
            flow_run_filter=overdue, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=200
        )
        seen, deleted = set(), 0
        for run in runs:
            if run.deployment_id not in seen:
                seen.add(run.deployment_id)  # the newest overdue run of this job stays
                continue
            await client.delete_flow_run(run.id)
            deleted += 1
        dropped += deleted
        if not deleted:
            return dropped


@click.command()
@click.argument("names", nargs=-1)
@click.option("--register-only", is_flag=True, help="register the deployments with the server and exit")
@click.option(
    "--start-now",
    "start_now",
    multiple=True,
    metavar="NAME",
    help="once registered, start one run of this deployment at once (repeatable)",
)
def serve(names: tuple[str, ...], register_only: bool, start_now: tuple[str, ...]) -> None:
    """Serve all deployments on their schedules (what `make run` runs), with the task worker.

    NAMES limits it to some deployments (default: all).
    """
    url = require_server()
    # run logs at INFO reach the dashboard (each run's Logs tab); the terminal shows warnings only
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # background task runs log outside any flow run: keep them off the API without a warning each
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    configure_prefect_env(url)
    import asyncio
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even when started with `&`

    deployments, skipped = build_deployments(names)
    for line in skipped:
        click.echo(f"drs serve: skipped {line}", err=True)
    if not deployments:
        raise InputError("no deployment could be loaded")
    unknown = [n for n in start_now if n not in {d.name for d in deployments}]
    if unknown:
        raise InputError(f"--start-now {unknown[0]}: not a deployment served here")
    tasks: list = []
    if not register_only:
        from flows.deployments import load_background_tasks

        tasks, notes = load_background_tasks()
        for note in notes:
            click.echo(f"drs serve: background task skipped: {note}", err=True)
    served = ", ".join(d.name for d in deployments)
    click.echo(f"drs serve: {len(deployments)} deployment(s) on {url}: {served}", err=True)
    if tasks:
        click.echo(f"drs serve: task worker for {', '.join(t.name for t in tasks)}", err=True)
    try:
        asyncio.run(_serve(deployments, tasks, run_once=register_only, start_now=start_now))
    except KeyboardInterrupt:
        click.echo("drs serve: stopped", err=True)
        sys.exit(0)
    if register_only:
        click.echo("drs serve: registered; not serving (--register-only)", err=True)

"""`drs worker tasks`: a task worker for a machine of the worker path — background tasks only.

`prefect deploy --all` registers the deployments in the `drs-process` work pool and `prefect worker
start` runs them; what the process workers do not run is the background tasks (`task.delay(...)`,
the `deliver-outbox-batch` delivery of new email). `drs worker tasks` serves those, and:

- every minute, the watch of `drs serve` (`cli.watch`): hands due email to the task workers and
  starts a `referral-intake` run (from its deployment, on whichever worker) when files wait;
- every minute, the crash report (`flows.crashes`): a run that Prefect marked Crashed because its
  machine stopped sending heartbeats is reported to the team (one outbox email per run);
- at start, it creates or updates the Prefect automation that marks such runs Crashed.

It registers, serves, pauses and resumes no deployment (unlike `drs serve deliver-email`, which
takes the deployment over): run as many as you like, on as many machines; Ctrl-C or SIGTERM stops
it and leaves every deployment as it was.
"""

from __future__ import annotations

import os
import sys

import click

from cli.common import InputError, configure_prefect_env
from cli.serve import require_server


@click.group()
def worker() -> None:
    """Processes for the worker path (`prefect worker start` runs the deployments)."""


@worker.command("tasks")
@click.option("--limit", default=4, show_default=True, help="background task runs at once in this process")
@click.option("--no-watch", is_flag=True, help="no minute watch of the outbox and inbox (only serve the tasks)")
def tasks(limit: int, no_watch: bool) -> None:
    """Serve the background tasks (email delivery) and watch the outbox, the inbox and crashed runs.

    Touches no deployment: the process workers (`prefect worker start --pool drs-process`) run
    the scheduled jobs. Needs a running Prefect server (`PREFECT_API_URL`).
    """
    url = require_server()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    configure_prefect_env(url)
    import asyncio
    import signal

    from flows.deployments import load_background_tasks

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even when started with `&`
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop, the same
    background, notes = load_background_tasks()
    for note in notes:
        click.echo(f"drs worker: background task skipped: {note}", err=True)
    if not background:
        raise InputError("no background task could be loaded")
    click.echo(f"drs worker: task worker for {', '.join(t.name for t in background)} on {url}", err=True)
    try:
        asyncio.run(_run(background, limit, watch=not no_watch))
    except KeyboardInterrupt:
        click.echo("drs worker: stopped", err=True)
        sys.exit(0)


async def _run(background: list, limit: int, watch: bool) -> None:
    """The task worker, and (with `watch`) the minute watch and crash report, until cancelled."""
    import asyncio

    from prefect.task_worker import aserve

    jobs = [aserve(*background, limit=limit)]
    if watch:
        from cli.watch import watch as minute_watch
        from flows.crashes import ensure_crash_automation, watch_crashes

        try:
            await ensure_crash_automation()
        except Exception as exc:  # noqa: BLE001 — serving mail matters more; said once
            click.echo(f"drs worker: could not create the crash automation ({type(exc).__name__})", err=True)
        jobs += [minute_watch(), watch_crashes()]
    await asyncio.gather(*jobs)

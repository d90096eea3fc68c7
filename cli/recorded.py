"""A `drs` command's flow run, recorded on the Prefect server at the least cost to the user.

Where the time of a recorded command went (Prefect 3.9.1, `drs monitor` with a server up, 2-core
machine; see notes/h16-ops.md for the figures):

- `import prefect` and the flow modules: ~1.5-2 s of CPU — the price of recording at all;
- the flow-run heartbeat thread, joined when the run ends: up to 1 s. A command's run lives and
  dies with the user's terminal (the heartbeat only serves to spot a crashed *deployment* run),
  so command runs go without it;
- interpreter shutdown after a run: ~1 s tearing down the thousands of objects Prefect loaded.
  Once the run's logs and events are sent (`drain`), the command ends with `os._exit`.

Server round trips: about ten per run (create the flow and the run, set its states, read it
back, the result storage, artifacts), a few tens of milliseconds each on an idle machine; two of
them only check the server's version, which command runs skip. Task runs are reported as events
and recorded by the server after the command has ended (the recorder batch settings of
`configure_prefect_env` keep that backlog short), so they cost the command nothing more.
"""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

#: Set once a flow ran in this process (so `exit_fast` knows there is Prefect state to flush).
_recorded = False


def run_recorded(flow: Any, kwargs: dict[str, Any]) -> Any:
    """Call `flow(**kwargs)` as a recorded flow run — without heartbeats, and without asking the
server its version each time a client opens (`drs` and the server are installed together by
`make install`; a mismatch still fails on the first real call) — and return its result."""
    global _recorded
    from prefect.settings import temporary_settings

    _recorded = True
    with temporary_settings(updates={"flows.heartbeat_frequency": None,
                                     "client.server_version_check_enabled": False}):
        return flow(**kwargs)


def drain(timeout: float = 10.0) -> None:
    """Send the run's logs and events still queued in this process to the server (blocks)."""
    if "prefect" not in sys.modules:
        return
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=timeout)
        EventsWorker.drain_all(timeout=timeout)
    except Exception:  # noqa: BLE001 — recording is best effort; the work is done
        pass


def exit_fast(main: Callable[[], None]) -> Callable[[], None]:
    """Decorate the console entry point: after a recorded run, drain and leave with `os._exit`
    (same exit status, stdout and stderr flushed), skipping ~1 s of interpreter teardown.
    Without a recorded run it changes nothing."""

    @functools.wraps(main)
    def wrapper() -> None:
        try:
            main()
        except SystemExit as exc:
            if not _recorded:
                raise
            code = exc.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
            if code is not None and not isinstance(code, int):
                print(code, file=sys.stderr)
            drain()
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(status)

    return wrapper

"""A `drs` command's flow run, recorded on the Prefect server at the least cost to the user.

Where the time of a recorded command went (Prefect 3.9.1, `drs monitor` with a server up, 2-core
machine; see notes/h16-ops.md for the figures):

- `import prefect` and the flow modules: ~1.5-2 s of CPU — the price of recording at all;
- the flow-run heartbeat thread, joined when the run ends: up to 1 s. A command's run lives and
  dies with the user's terminal (the heartbeat only serves to spot a crashed *deployment* run),
  so command runs go without it;
- interpreter shutdown after a run: ~1 s tearing down the thousands of objects Prefect loaded.
  Once the run's logs and events are sent (`drain`), the command ends with `os._exit`.

Also cut (notes/h16-rest.md): the FastAPI import Prefect makes to encode parameters (plain
ones are encoded here), a full settings rebuild to switch the heartbeat off, SDK telemetry.

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

#: Environment of a command's own process, set before Prefect is imported (a value already in the
#: environment wins). `DO_NOT_TRACK`: Prefect's SDK telemetry (an import-time check that, on a
#: terminal, reads and writes milestone files and may send an event out) is off — an offline
#: install has nothing to report, and it is time spent on every command.
#: `PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED`: no version round trip each time a client opens.
COMMAND_ENV = {"DO_NOT_TRACK": "1", "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false"}


def prepare_env() -> None:
    """Set `COMMAND_ENV` in this process (call before Prefect is imported)."""
    for key, value in COMMAND_ENV.items():
        os.environ.setdefault(key, value)


def serialize_plain_parameters(flow: Any) -> None:
    """Give `flow` (in this process) a parameter serializer that encodes plain values (dates,
    times, strings, numbers, lists of them) itself, as Prefect would, instead of through
    `fastapi.encoders.jsonable_encoder` (`flows.parameters`; every job's flow has it already)."""
    from flows.parameters import plain_parameters

    plain_parameters(flow)


def run_recorded(flow: Any, kwargs: dict[str, Any]) -> Any:
    """Call `flow(**kwargs)` as a recorded flow run — without heartbeats, and without asking the
    server its version each time a client opens (`COMMAND_ENV`; `drs` and the server are installed
    together by `make install`; a mismatch still fails on the first real call) — and return its result.

    The heartbeat is switched off on a copy of the current settings (`model_copy`, no re-read of the
    environment): Prefect's `temporary_settings` rebuilds every setting from the environment and cost
    ~0.2 s; `None` cannot be given through an environment variable."""
    global _recorded
    from prefect.context import SettingsContext, get_settings_context

    _recorded = True
    serialize_plain_parameters(flow)
    context = get_settings_context()
    settings = context.settings
    quiet = settings.model_copy(update={"flows": settings.flows.model_copy(update={"heartbeat_frequency": None})})
    with SettingsContext(profile=context.profile, settings=quiet):
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

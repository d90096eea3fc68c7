"""`make run` (`python -m cli.run`): database, demo data, the Prefect server and `drs serve`, in one go.

1. Refuses to start a twin: one `make run` per project data folder (a lock in `$PREFECT_HOME`),
   and none while the recorded server is still answering.
2. Migrates the database (`drs db upgrade`).
3. When the register holds no local authority, loads the fictional demo data set and says so
   (`DRS_DEMO=0` skips it).
4. Starts `prefect server start` on 127.0.0.1:4200 (`PREFECT_SERVER_API_PORT` moves it) with
   Prefect's home in `$DRS_HOME/prefect`, analytics off and the task-run recorder batch settings;
   waits for `/api/health`; records `{"api_url", "pid", ...}` in `$PREFECT_HOME/server.json` so
   every `drs` command finds it.
   Prefect's own database is kept bounded (`PREFECT_RETENTION`): flow runs, their logs and
   artifacts go 90 days after they ended, events after 7 days.
5. Starts `drs serve --start-now watchdog` (every deployment on its schedule, plus the task worker;
   once the deployments are registered it starts one watchdog run — the "today" screen — and, on a
   fresh demo, one deadline-monitor and one session-reminders run), and prints the dashboard
   address and the `today` screen's.
6. Ctrl-C (or SIGTERM) stops `drs serve`, then the server, and removes the record.

The children run in their own process groups so that Ctrl-C reaches only this process, which then
stops them in order (the scheduler first, so it can pause its schedules on a live server).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cli.supervisor import Supervisor, say, terminate
from tasks.operations.processes import pid_alive

HOST = "127.0.0.1"
DEFAULT_PORT = 4200

#: Prefect's own retention, for a year unattended (Prefect 3.9 settings; a value already in the
#: environment wins). The database vacuum deletes terminal flow runs — with their logs and
#: artifacts — that ended more than the retention period ago (one period for every final state:
#: Prefect cannot keep failed runs longer), and events older than the events retention period.
PREFECT_RETENTION = {
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(90 * 24 * 3600),
    "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": "P7D",  # a duration (ISO 8601); the vacuum one is seconds
}
HEALTH_TIMEOUT_S = 120


def _health(api_url: str, timeout: float = 1.0) -> bool:
    """Whether the Prefect server at `api_url` answers its health check (Prefect's own client, with
    the dashboard password when one is set)."""
    if not api_url:
        return False
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import PREFECT_API_AUTH_STRING

    try:
        with SyncPrefectClient(
            api_url, auth_string=PREFECT_API_AUTH_STRING.value(), httpx_settings={"timeout": timeout}
        ) as client:
            return client.api_healthcheck() is None
    except Exception:  # noqa: BLE001 — a bad address or a refused connection: not healthy
        return False


def _port_in_use(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def server_port() -> int:
    """The dashboard's port: `PREFECT_SERVER_API_PORT`, default 4200; `ValueError` names a bad one."""
    raw = (os.environ.get("PREFECT_SERVER_API_PORT") or "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"PREFECT_SERVER_API_PORT={raw!r} is not a port number (1-65535)")
    return int(raw)


def server_env(environ: dict[str, str], api_url: str, ui_url: str) -> dict[str, str]:
    """The environment of the server and `drs serve`: `environ` plus the API and UI addresses and
    Prefect's retention settings (`PREFECT_RETENTION`, unless `environ` sets them)."""
    env = dict(environ)
    for key, value in PREFECT_RETENTION.items():
        env.setdefault(key, value)
    env["PREFECT_API_URL"] = api_url
    env["PREFECT_UI_URL"] = ui_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def share_auth_string() -> None:
    """Under a dashboard password (PREFECT_SERVER_API_AUTH_STRING), our own clients — the first runs
    started here and `drs serve` — send it too (PREFECT_API_AUTH_STRING, unless set already)."""
    if os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        os.environ.setdefault("PREFECT_API_AUTH_STRING", os.environ["PREFECT_SERVER_API_AUTH_STRING"])


def main() -> int:
    """Run everything (see the module docstring); the exit status: 0 after Ctrl-C, else 1 or 2."""
    from cli.common import configure_prefect_env
    from tasks.settings import get_settings

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C works even if started with `&`
    user_log_level = os.environ.get("PREFECT_LOGGING_LEVEL")
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    configure_prefect_env()
    share_auth_string()
    prefect_home = Path(os.environ["PREFECT_HOME"])
    prefect_home.mkdir(parents=True, exist_ok=True)
    try:
        port = server_port()
    except ValueError as exc:
        say(str(exc))
        return 2
    lock = open(prefect_home / "run.lock", "w")  # noqa: SIM115 — held until exit
    try:
        if not _no_twin(lock, prefect_home / "server.json", port, settings.home):
            return 1
        started = time.monotonic()
        demo_loaded = _database(settings)
        return _serve_until_stopped(prefect_home, port, started, demo_loaded, user_log_level)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _no_twin(lock, record: Path, port: int, home: Path) -> bool:
    """1. Take the lock of this data folder; refuse (False, said why) when another `make run` holds
    it, a recorded server still answers, or another program has the port."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say(
            f"drs-flows is already running for {home.resolve()} (another `make run`); "
            "use that one, or stop it with Ctrl-C in its terminal"
        )
        return False
    if record.exists():
        try:
            previous = json.loads(record.read_text())
        except ValueError:
            previous = {}
        if previous.get("pid") and pid_alive(int(previous["pid"])) and _health(previous.get("api_url", "")):
            say(
                f"a Prefect server recorded by an earlier run is still running (pid {previous['pid']}, "
                f"{previous.get('ui_url', previous.get('api_url'))}); stop it first: kill {previous['pid']}"
            )
            return False
        record.unlink(missing_ok=True)
    if _port_in_use(port):
        say(f"port {port} on {HOST} is already in use by another program; stop it or set PREFECT_SERVER_API_PORT")
        return False
    return True


def _database(settings) -> bool:
    """2. Migrate the database; 3. load the demo data set into an empty register (unless DRS_DEMO=0).
    Returns whether the demo was loaded."""
    from models.db.migrate import upgrade
    from tasks.cases.demo import database_is_empty, load_demo
    from tasks.db import unit_of_work
    from tasks.timekeeping import resolve_now

    upgrade(settings.db_url)
    say("database is up to date")
    with unit_of_work() as db:
        if not database_is_empty(db):
            return False
        if not settings.demo:
            say("the register is empty and DRS_DEMO=0: no demo data loaded (import LAs with `drs la import`)")
            return False
        today, now = resolve_now()
        counts = load_demo(db, today, now)
        db.commit()
    say(
        "the register was empty, so the fictional DEMO data set was loaded ("
        + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        + "); set DRS_DEMO=0 to start without it"
    )
    return True


def _serve_until_stopped(
    prefect_home: Path, port: int, started: float, demo_loaded: bool, user_log_level: str | None
) -> int:
    """4. The server, 5. `drs serve`, then wait for Ctrl-C (0) or a child that exits (1); 6. stop."""
    supervisor = Supervisor()
    previous_handler = signal.signal(signal.SIGTERM, terminate)
    api_url = f"http://{HOST}:{port}/api"
    env = server_env(dict(os.environ), api_url, f"http://{HOST}:{port}")
    try:
        if not _start_server(supervisor, env, prefect_home, port, started):
            return 1
        _start_serve(supervisor, env, demo_loaded, user_log_level)
        print(
            f"\n  Dashboard: http://{HOST}:{port}   (Ctrl-C stops everything)"
            f"\n  Today:     http://{HOST}:{port}/artifacts/key/today   (bookmark it; also linked from each watchdog run's log)\n",
            flush=True,
        )
        while True:
            for label, proc in supervisor.children:
                if proc.poll() is not None:
                    say(f"{label} exited (status {proc.returncode}); stopping")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print(flush=True)
        say("stopping")
        return 0
    finally:
        supervisor.stop()
        signal.signal(signal.SIGTERM, previous_handler)
        say("stopped")


def _start_server(supervisor: Supervisor, env: dict[str, str], prefect_home: Path, port: int, started: float) -> bool:
    """4. Start `prefect server start`, wait until it is healthy, and record it in server.json."""
    api_url = env["PREFECT_API_URL"]
    logs = prefect_home / "logs"
    logs.mkdir(exist_ok=True)
    say(f"starting the Prefect server on {HOST}:{port} (Prefect home {prefect_home}; log {logs / 'server.log'})")
    server = supervisor.start(
        "the Prefect server",
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", HOST, "--port", str(port)]
        + ["--analytics-off"],
        env,
        logs / "server.log",
    )
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not _health(api_url):
        if server.poll() is not None:
            say(f"the Prefect server exited (status {server.returncode}); see {logs / 'server.log'}")
            return False
        if time.monotonic() > deadline:
            say(f"the Prefect server did not answer within {HEALTH_TIMEOUT_S} s; see {logs / 'server.log'}")
            return False
        time.sleep(0.5)
    supervisor.record = prefect_home / "server.json"
    supervisor.record.write_text(
        json.dumps(
            {
                "api_url": api_url,
                "ui_url": env["PREFECT_UI_URL"],
                "pid": server.pid,
                "run_pid": os.getpid(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )
    say(f"Prefect server healthy after {time.monotonic() - started:.0f} s")
    return True


def _start_serve(supervisor: Supervisor, env: dict[str, str], demo_loaded: bool, user_log_level: str | None) -> None:
    """5. Start `drs serve` (run logs at INFO go to the dashboard; its terminal output stays at
    WARNING). The first runs are started by `drs serve` itself once it has registered the
    deployments, so they cannot race the registration."""
    serve_env = dict(env)
    if user_log_level is None:
        serve_env.pop("PREFECT_LOGGING_LEVEL", None)
    kicks = ["watchdog"] + (["deadline-monitor", "session-reminders"] if demo_loaded else [])
    supervisor.start(
        "drs serve",
        [str(Path(sys.executable).parent / "drs"), "serve"] + [arg for name in kicks for arg in ("--start-now", name)],
        serve_env,
    )


if __name__ == "__main__":
    sys.exit(main())

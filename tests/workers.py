"""The README's worker path on one machine: a real `prefect server start`, `prefect deploy --all`,
process workers and `drs worker tasks`, each a process of its own (as on separate machines), and
helpers to read what happened. Used by `tests/flows/test_workers.py` and `bench/`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Machines:
    """Processes started as the README says, each with its own log; stopped with Ctrl-C (SIGINT)."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    data_url: str = ""  # our database (for the tests' own counts)

    def start(self, name: str, argv: list[str], cwd: Path | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 — closed with the process
        proc = subprocess.Popen(
            argv, cwd=cwd or REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, process_group=0
        )
        self.procs[name] = proc
        return proc

    def run(self, argv: list[str], timeout: float = 120) -> str:
        """Run one command to its end (as typed in the README); its output, or AssertionError."""
        done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kill_machine(self, name: str) -> list[int]:
        """SIGKILL a process and everything it started (a machine that dies); returns the pids."""
        proc = self.procs[name]
        pids = [proc.pid, *descendants(proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)
        return pids

    def interrupt_all(self, timeout: float = 30, but: tuple[str, ...] = ()) -> dict[str, int | None]:
        """Ctrl-C every process still running (SIGINT to its group), except `but`; their exit codes."""
        procs = {name: proc for name, proc in self.procs.items() if name not in but}
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        codes: dict[str, int | None] = {}
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                codes[name] = None
        return codes


def start_server(machines: Machines, timeout: float = 120) -> str:
    """`prefect server start` on a free port; returns the API URL once healthy."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    proc = machines.start(
        "server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    )
    deadline = time.monotonic() + timeout
    while not healthy(api_url):
        assert proc.poll() is None, machines.log("server")[-3000:]
        assert time.monotonic() < deadline, machines.log("server")[-3000:]
        time.sleep(0.5)
    machines.env["PREFECT_API_URL"] = api_url
    return api_url


def wait_for(what: str, check, timeout: float, every: float = 1.0, detail=None):
    """Call `check()` until it returns something truthy; that value, or AssertionError naming `what`
    (and what `detail()` says)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {detail() if detail else ''}")
        time.sleep(every)


def api(machines: Machines, path: str, body: dict | None = None):
    """One call to the Prefect server's REST API (POST with `body`, else GET); the JSON answer."""
    import httpx

    url = machines.env["PREFECT_API_URL"] + path
    response = httpx.post(url, json=body, timeout=30) if body is not None else httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.json()


def deployments_state(machines: Machines) -> dict[str, tuple[bool, tuple[bool, ...]]]:
    """name -> (paused, each schedule's `active`) of every deployment on the server."""
    return {
        d["name"]: (d["paused"], tuple(s["active"] for s in d.get("schedules", [])))
        for d in api(machines, "/deployments/filter", {"limit": 200})
    }


def flow_run(machines: Machines, run_id: str) -> dict:
    return api(machines, f"/flow_runs/{run_id}")


def run_deployment(machines: Machines, name: str) -> str:
    """`prefect deployment run NAME/NAME`; returns the new flow run's id."""
    import re

    out = machines.run([str(BIN / "prefect"), "deployment", "run", f"{name}/{name}"])
    found = re.search(r"flow-run/([0-9a-f-]{36})", out.replace("\n", ""))
    assert found, out
    return found.group(1)


def databases(tmp: Path):
    """(our database URL, Prefect's, a function dropping them): PostgreSQL when the tests have one."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("DRS_TEST_POSTGRES_URL")
    if not base:
        return f"sqlite:///{tmp / 'drs.sqlite3'}", f"sqlite+aiosqlite:///{tmp / 'prefect.db'}", lambda: None
    url = make_url(base)
    suffix = os.urandom(4).hex()
    names = (f"drs_workers_{suffix}", f"prefect_workers_{suffix}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    ours = url.set(database=names[0]).render_as_string(hide_password=False)
    prefects = url.set(drivername="postgresql+asyncpg", database=names[1]).render_as_string(hide_password=False)
    return ours, prefects, drop

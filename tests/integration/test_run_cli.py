"""`drs serve` and `make run` (`python -m cli.run`): refusals, twins, and one real start and stop."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_without_a_server(drs, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    r = drs("serve")
    assert r.exit_code == 2
    assert "no Prefect server" in r.stderr and "make run" in r.stderr
    assert r.stderr.count("\n") == 1


def test_serve_refuses_an_unreachable_server_and_names_it(drs, monkeypatch):
    url = f"http://127.0.0.1:{_free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    r = drs("serve")
    assert r.exit_code == 2 and url in r.stderr and "not reachable" in r.stderr


def test_serve_refuses_an_unknown_deployment_name(drs, monkeypatch):
    monkeypatch.setattr("cli.serve.require_server", lambda: "http://127.0.0.1:1/api")
    r = drs("serve", "no-such-job")
    assert r.exit_code == 2 and "unknown deployment 'no-such-job'" in r.stderr


def test_run_says_so_when_one_is_already_running(drs_env, monkeypatch, capsys):
    from cli import run

    home = drs_env.prefect_home
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    with open(home / "run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run.main() == 1
    out = capsys.readouterr().out
    assert "already running" in out
    assert not (home / "server.json").exists()


def test_run_refuses_a_port_taken_by_another_program(drs_env, monkeypatch, capsys):
    from cli import run

    monkeypatch.setenv("PREFECT_HOME", str(drs_env.prefect_home))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("PREFECT_SERVER_API_PORT", str(busy.getsockname()[1]))
        assert run.main() == 1
    assert "already in use" in capsys.readouterr().out


def _deployment_id(api_url: str, name: str) -> str:
    with urllib.request.urlopen(f"{api_url}/deployments/name/{name}/{name}", timeout=5) as response:
        return json.load(response)["id"]


def test_make_run_starts_server_and_scheduler_and_ctrl_c_stops_both(tmp_path):
    """The real thing: demo loaded, server healthy and recorded, every deployment served; Ctrl-C."""
    port = _free_port()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRS_", "PREFECT_"))}
    env.update({"DRS_HOME": str(home), "PREFECT_SERVER_API_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "run.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.run"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        try:
            while "Dashboard:" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() - started < 150, log.read_text()
                time.sleep(0.5)
            record = json.loads((home / "prefect" / "server.json").read_text())
            assert record["api_url"] == f"http://127.0.0.1:{port}/api"
            deadline = time.monotonic() + 60
            while True:
                request = urllib.request.Request(
                    record["api_url"] + "/deployments/filter",
                    data=b"{}",
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                names = {d["name"] for d in json.load(urllib.request.urlopen(request, timeout=5))}
                if len(names) >= 15 or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert {"referral-intake", "deadline-monitor", "watchdog", "admin-record-case-event"} <= names
            text = log.read_text()
            assert "fictional DEMO data set was loaded" in text
            assert f"Dashboard: http://127.0.0.1:{port}" in text
            assert f"Today:     http://127.0.0.1:{port}/artifacts/key/today" in text
            # Prefect's own records are bounded: runs (with logs and artifacts) 90 days, events 7
            settings = json.load(urllib.request.urlopen(record["api_url"] + "/admin/settings", timeout=5))
            assert set(settings["server"]["services"]["db_vacuum"]["enabled"]) >= {"events", "flow_runs"}
            assert settings["server"]["services"]["db_vacuum"]["retention_period"] == "P90D"
            assert settings["server"]["events"]["retention_period"] == "P7D"
            # the first watchdog run (the `today` screen) is started by `drs serve` once it has
            # registered the deployments: always there, never raced
            deadline = time.monotonic() + 90
            while True:
                body = json.dumps({"flow_runs": {"tags": {"all_": ["start-now"]}}}).encode()
                request = urllib.request.Request(
                    record["api_url"] + "/flow_runs/filter",
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                runs = json.load(urllib.request.urlopen(request, timeout=5))
                watchdog = [
                    r
                    for r in runs
                    if r["state_type"] == "COMPLETED"
                    and r["name"]
                    and r.get("deployment_id") == _deployment_id(record["api_url"], "watchdog")
                ]
                if watchdog or time.monotonic() > deadline:
                    break
                time.sleep(2)
            assert watchdog, log.read_text()
            artifact = json.load(urllib.request.urlopen(record["api_url"] + "/artifacts/today/latest", timeout=5))
            assert artifact["description"] == artifact["data"]  # the key's page shows the screen itself
            # the watchdog run (one click from the home page) links the screen in its log
            line = f"today's screen: http://127.0.0.1:{port}/artifacts/key/today — "
            deadline = time.monotonic() + 30  # a run's logs reach the server shortly after it ends
            while True:
                body = json.dumps({"logs": {"flow_run_id": {"any_": [watchdog[0]["id"]]}}}).encode()
                request = urllib.request.Request(
                    record["api_url"] + "/logs/filter",
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                messages = [entry["message"] for entry in json.load(urllib.request.urlopen(request, timeout=5))]
                if any(m.startswith(line) for m in messages) or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert any(m.startswith(line) for m in messages), messages
            assert "started now: watchdog, deadline-monitor, session-reminders" in log.read_text()
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            stop = time.monotonic()
            proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()
    assert time.monotonic() - stop < 45
    assert not (home / "prefect" / "server.json").exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server is still listening"
    for pid in (record["pid"], record["run_pid"]):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"process {pid} is still running")

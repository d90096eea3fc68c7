"""Issue 17: a password-protected dashboard (a real `prefect server start` with
PREFECT_SERVER_API_AUTH_STRING on a spare port). A `drs` command without PREFECT_API_AUTH_STRING says
in one line which setting is missing (exit 2); `make run`'s first runs send the header."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SECRET = "admin:correct-horse-battery"


def _spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def protected_server(tmp_path_factory):
    import prefect

    assert tuple(int(p) for p in prefect.__version__.split(".")[:2]) >= (3, 1)  # auth strings arrived in 3.1
    home = tmp_path_factory.mktemp("prefect-auth")
    port = _spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_API_AUTH_STRING=SECRET,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
    )
    log = open(home / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--analytics-off",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()[-2000:]
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_cli_names_the_missing_setting_in_one_line(protected_server, las, drs, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", protected_server)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    r = drs("monitor", "--today", "2026-11-27")
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0 and "PREFECT_API_AUTH_STRING is not set" in r.stderr, r.stderr
    assert "401" not in r.stderr
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "wrong")
    r = drs("monitor", "--today", "2026-11-27")
    assert r.exit_code == 2 and "refused PREFECT_API_AUTH_STRING" in r.stderr, r.stderr
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", SECRET)
    from cli.prefect_auth import auth_problem

    assert auth_problem(protected_server) is None  # the right value is accepted


def _api(url: str, method: str, path: str, body: dict | None = None) -> dict | list | None:
    """A raw call to the server, with the auth header when PREFECT_API_AUTH_STRING is set; None if refused."""
    import json
    import urllib.request

    from cli.prefect_auth import auth_header

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, method=method, headers={"Content-Type": "application/json", **auth_header()}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")
    except (OSError, ValueError):
        return None


def test_make_run_sends_the_header_for_its_first_runs(protected_server, monkeypatch):
    import asyncio

    from cli import run, serve

    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "")  # so that teardown removes what share_auth_string sets
    monkeypatch.delenv("PREFECT_API_AUTH_STRING")
    flow = _api(protected_server, "POST", "/flows/", {"name": "watchdog"})
    assert flow is None  # without the header: refused, which is why the first runs never started
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", SECRET)
    run.share_auth_string()  # what `make run` does first; `drs serve --start-now` inherits it
    assert os.environ["PREFECT_API_AUTH_STRING"] == SECRET
    flow = _api(protected_server, "POST", "/flows/", {"name": "watchdog"})
    assert flow and flow["id"]
    assert _api(protected_server, "POST", "/deployments/", {"name": "watchdog", "flow_id": flow["id"]})
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    # `drs serve` starts with this environment; in this process Prefect's settings were read at import
    with temporary_settings(
        updates={PREFECT_API_URL: protected_server, PREFECT_API_AUTH_STRING: os.environ["PREFECT_API_AUTH_STRING"]}
    ):
        assert asyncio.run(serve._start_now(("watchdog",))) == ["watchdog"]  # `drs serve --start-now watchdog`
    runs = _api(protected_server, "POST", "/flow_runs/filter", {})
    assert len(runs) == 1

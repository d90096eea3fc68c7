"""The README's "More machines" path, followed on one machine (issue 18).

A real `prefect server start` (its database on PostgreSQL when DRS_TEST_POSTGRES_URL is set, as is
ours), `prefect work-pool create`, `prefect deploy --all`, process workers (`prefect worker start`)
and task workers (`drs worker tasks`), each a process of its own, started from folders other than
the project's, as on other machines. The steps are those of README.md, "More machines".
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import LA_CSV
from tests.intake_samples import referral, write_json
from tests.workers import (
    BIN,
    REPO,
    Machines,
    api,
    databases,
    deployments_state,
    flow_run,
    run_deployment,
    start_server,
    wait_for,
)

pytestmark = pytest.mark.flow
PREFECT = str(BIN / "prefect")
DRS = str(BIN / "drs")
HEARTBEAT_S = 30  # Prefect's minimum: the crash automation then waits 75 s of silence


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server on loopback; its `.messages` (parsed)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    messages: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.messages = messages  # type: ignore[attr-defined]
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, smtp):
    """README "More machines", steps 1-4: settings, the server, our schema and LAs, the deployments."""
    tmp = tmp_path_factory.mktemp("machines")
    data_url, prefect_url, drop = databases(tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRS_", "PREFECT_"))}
    env.update(
        {
            # every machine: the same settings (README step 1)
            "DRS_HOME": str(tmp / "home"),
            "DRS_DATABASE_URL": data_url,
            "DRS_TEAM_EMAIL": "team@service.example.org",
            "DRS_MAIL_FROM": "mediation@service.example.org",
            "DRS_SMTP_HOST": "127.0.0.1",
            "DRS_SMTP_PORT": str(smtp.port),
            "DRS_SMTP_SECURITY": "none",
            "DRS_DEMO": "0",
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(tmp / "results"),
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_S),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # no run starts from a schedule while the test runs: its claims are about the runs it
            # starts, at any time of day (run at midnight, the schedules' 00:00 intake and delivery
            # runs landed on machine B, and a worker waits for its runs before it stops on Ctrl-C).
            # The schedules themselves stay as deployed, and are read back active at the end.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    machines = Machines(env, tmp)
    try:
        start_server(machines)  # step 2: the server (its database: PREFECT_SERVER_DATABASE_CONNECTION_URL)
        machines.run([DRS, "db", "upgrade"])  # step 3: our schema, and the LA register
        (tmp / "las.csv").write_text(LA_CSV)
        machines.run([DRS, "la", "import", str(tmp / "las.csv")])
        machines.run([PREFECT, "work-pool", "create", "drs-process", "--type", "process", "--overwrite"])
        machines.run([PREFECT, "--no-prompt", "deploy", "--all"], timeout=300)  # step 4
        machines.data_url = data_url
        yield machines
    finally:
        machines.interrupt_all(but=("server",))
        machines.interrupt_all()
        drop()


def _machine_dir(cluster: Machines, name: str) -> Path:
    """A folder of its own for a "machine" (never the project's folder)."""
    path = cluster.logs / name
    path.mkdir(exist_ok=True)
    return path


#: an email due now and not yet sent; and one held back by the family's quiet hours (20:00-08:00:
#: the test runs at any time of day, so acknowledgements queued in the evening wait for morning)
DUE = "status in ('pending', 'sending') and (not_before is null or not_before <= now())"
HELD = "status = 'pending' and not_before > now()"


def _scalar(cluster: Machines, sql: str) -> int:
    engine = create_engine(cluster.data_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_the_stored_deployments_hold_no_path_of_the_deploying_machine(cluster):
    deployments = api(cluster, "/deployments/filter", {"limit": 200})
    assert len(deployments) == 18
    for deployment in deployments:
        assert deployment["pull_steps"] == [{"flows.deployments.enter_project": {}}], deployment["name"]
        stored = json.dumps(deployment)
        assert str(REPO) not in stored and "/work/" not in stored, deployment["name"]


QUEUE_ONE = """
from datetime import UTC, datetime
from flows.delivery import enqueue_delivery
from tasks.db import unit_of_work
from tasks.mail.outbox import queue_email
with unit_of_work() as db:
    row = queue_email(db, key="worker-tasks-test", kind="test", to="someone@families.example",
                      subject="background", text="hello", now=datetime.now(UTC))
    db.commit()
    ids = [row.id]
assert enqueue_delivery(ids) == 1
"""


def test_drs_worker_tasks_delivers_background_tasks_and_touches_no_deployment(cluster, smtp):
    before = deployments_state(cluster)
    assert not any(paused for paused, _ in before.values())
    cluster.start("tasks-only", [DRS, "worker", "tasks"], cwd=_machine_dir(cluster, "tasks-only"))
    wait_for("the task worker", lambda: "task worker for deliver-outbox-batch" in cluster.log("tasks-only"), 60)
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", QUEUE_ONE], cwd=REPO, env=cluster.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # delivered by the background task, before the minute watch would have looked
    wait_for("the background delivery", lambda: [m for m in smtp.messages if m["Subject"] == "background"], 40, 0.5)
    proc = cluster.procs.pop("tasks-only")
    os.killpg(proc.pid, __import__("signal").SIGINT)
    assert proc.wait(timeout=30) == 0, cluster.log("tasks-only")[-2000:]
    assert deployments_state(cluster) == before
    automations = api(cluster, "/automations/filter", {})
    assert [a["name"] for a in automations] == ["drs-flows: a run whose machine died is Crashed"]


# many small files: intake imports a file in well under the 0.2 s between the test's looks, so the
# run must last several files for the kill to land mid-run (four files of 40 no longer did)
FILES, PER_FILE = 40, 5


def _write_referrals(inbox: Path) -> int:
    for f in range(FILES):
        write_json(
            inbox / f"batch-{f:02d}.json",
            [
                referral(
                    f"TT-W{f:02d}{n:03d}",
                    wants_mediation="yes",
                    child_name=f"Child {f}-{n} Worker",
                    child_date_of_birth=f"2014-{1 + n % 12:02d}-{1 + n % 28:02d}",
                )
                for n in range(PER_FILE)
            ],
        )
    return FILES * PER_FILE


def _submitted_by(cluster: Machines, run_id: str, workers: list[str]) -> str | None:
    return next((w for w in workers if f"submitting flow run '{run_id}'" in cluster.log(w)), None)


def _intake_runs(cluster: Machines) -> list[dict]:
    """The referral-intake runs started so far (not those its schedule holds for later)."""
    runs = api(cluster, "/flow_runs/filter", {"deployments": {"name": {"any_": ["referral-intake"]}}})
    return [r for r in runs if "auto-scheduled" not in r["tags"]]


def _final(run: dict) -> bool:
    return run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _state(cluster: Machines, run_id: str) -> str:
    return flow_run(cluster, run_id)["state"]["type"]


def _start_machines_and_kill_a_mid_intake(cluster: Machines, total: int) -> str:
    """Steps 5-6: two task workers and machine A; an intake run on A; machine B; A dies mid-run."""
    for name in ("tasks-a", "tasks-b"):
        cluster.start(name, [DRS, "worker", "tasks"], cwd=_machine_dir(cluster, name))
    cluster.start(
        "worker-a",
        [PREFECT, "worker", "start", "--pool", "drs-process", "--name", "machine-a"],
        cwd=_machine_dir(cluster, "worker-a"),
    )
    intake = run_deployment(cluster, "referral-intake")
    wait_for("machine A to take the intake run", lambda: _submitted_by(cluster, intake, ["worker-a"]), 60)
    cluster.start(
        "worker-b",
        [PREFECT, "worker", "start", "--pool", "drs-process", "--name", "machine-b"],
        cwd=_machine_dir(cluster, "worker-b"),
    )
    wait_for(
        "the intake run to be half done",
        lambda: _scalar(cluster, "select count(*) from cases") > 0 and _state(cluster, intake) == "RUNNING",
        120,
        0.2,
    )
    cluster.kill_machine("worker-a")  # the worker and the run's process, SIGKILL
    half = _scalar(cluster, "select count(*) from cases")
    assert 0 < half < total, "the run was not killed mid-run"
    return intake


def _next_run_finishes_on_b(cluster: Machines, inbox: Path, crashed: str) -> None:
    """Step 8: the job's slot is free: the next intake run, on machine B, finishes the work (the
    task workers' minute watch starts one when files wait; `prefect deployment run` by hand)."""
    if not [r for r in _intake_runs(cluster) if r["state"]["type"] in ("SCHEDULED", "PENDING", "RUNNING")]:
        run_deployment(cluster, "referral-intake")
    processed = inbox / "processed"
    wait_for("every file filed", lambda: processed.exists() and len(list(processed.iterdir())) == FILES, 240)
    wait_for(
        "the intake runs to end",
        lambda: all(_final(r) for r in _intake_runs(cluster)),
        120,
        detail=lambda: [(r["id"], r["state"]["name"], r["tags"]) for r in _intake_runs(cluster)],
    )
    finished = [r for r in _intake_runs(cluster) if r["id"] != crashed]
    assert finished and {r["state"]["type"] for r in finished} == {"COMPLETED"}, finished
    assert {_submitted_by(cluster, r["id"], ["worker-a", "worker-b"]) for r in finished} == {"worker-b"}
    wait_for("the outbox to empty", lambda: _scalar(cluster, f"select count(*) from outbox where {DUE}") == 0, 120)


def _nothing_lost_nor_twice(cluster: Machines, smtp, inbox: Path, total: int) -> None:
    assert _scalar(cluster, "select count(*) from cases") == total
    assert _scalar(cluster, "select count(distinct form_id) from referrals") == total
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [f"batch-{f:02d}.json" for f in range(FILES)]
    assert not [p for p in inbox.iterdir() if p.is_file()]
    claimed = inbox / ".claimed"
    assert not claimed.exists() or not [p for p in claimed.iterdir() if p.is_file()]
    rows = _scalar(cluster, "select count(*) from outbox")
    sent = _scalar(cluster, "select count(*) from outbox where status = 'sent'")
    assert sent + _scalar(cluster, f"select count(*) from outbox where {HELD}") == rows  # none lost
    assert sent >= 1
    ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert max(ids.values()) == 1, [k for k, v in ids.items() if v > 1]
    assert len([m for m in smtp.messages if "crashed" in str(m["Subject"])]) == 1
    assert _scalar(cluster, "select count(*) from outbox where kind = 'flow-crashed'") == 1


def test_two_workers_and_two_task_workers_survive_a_machine_killed_mid_run(cluster, smtp):
    """README "More machines", steps 5-7: a worker SIGKILLed mid-intake; its run ends Crashed, the
    team is emailed once within a few minutes, the next run (on the other worker) finishes the
    work: 0 lost, 0 twice; Ctrl-C of everything leaves nothing paused."""
    if not cluster.data_url.startswith("postgresql"):
        pytest.skip("several workers share our database on PostgreSQL (DRS_TEST_POSTGRES_URL)")
    before = deployments_state(cluster)
    inbox = Path(cluster.env["DRS_HOME"]) / "inbox" / "referrals"
    total = _write_referrals(inbox)
    intake = _start_machines_and_kill_a_mid_intake(cluster, total)
    killed = time.monotonic()
    # the run is marked Crashed (no heartbeat), the team is emailed once
    wait_for("the run to be marked Crashed", lambda: _state(cluster, intake) == "CRASHED", 150)
    assert "No heartbeat" in flow_run(cluster, intake)["state"]["message"]
    wait_for("the team's crash email", lambda: [m for m in smtp.messages if "crashed" in str(m["Subject"])], 120)
    reported = time.monotonic() - killed
    assert reported < 240, f"the team heard of the dead machine {reported:.0f} s after it died"
    _next_run_finishes_on_b(cluster, inbox, intake)
    _nothing_lost_nor_twice(cluster, smtp, inbox, total)
    # Ctrl-C of everything; a loaded CI machine has seen `prefect worker start` take over 30 s to stop
    codes = cluster.interrupt_all(timeout=90, but=("server",))
    stuck = {name: cluster.log(name)[-1500:] for name, code in codes.items() if code is None}
    assert not stuck, (codes, stuck)  # each stopped on Ctrl-C (else: what it was doing)
    assert deployments_state(cluster) == before
    assert not any(paused for paused, _ in before.values())
    print(f"\n{total} referrals; the team was told {reported:.0f} s after the machine died")

"""Every deployment, served for real: `drs serve` against the test server, each triggered by name.

One `drs serve` child process for the module (it registers the deployments and executes their
runs, each in a process of its own, as in production), on a SQLite database with the demo data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.deployments import DEPLOYMENTS, SCHEDULED, TIMEZONE

pytestmark = pytest.mark.flow

TODAY = date(2026, 11, 27)  # a Friday
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
PARAMETERS = {
    "referral-intake": {"today": TODAY.isoformat(), "now": NOW.isoformat()},
    "deliver-email": {"now": NOW.isoformat()},
    "deadline-monitor": {"today": TODAY.isoformat(), "now": NOW.isoformat(), "wait_for_approval": False},
    "session-reminders": {"now": NOW.isoformat()},
    "expense-routing": {"today": TODAY.isoformat(), "now": NOW.isoformat()},
    "monthly-report": {"today": TODAY.isoformat(), "now": NOW.isoformat()},
    "retention": {"today": TODAY.isoformat()},
    "bounce-check": {"now": NOW.isoformat()},
}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(prefect_harness, tmp_path_factory):
    """A migrated SQLite database with the demo data, and `drs serve` serving every deployment."""
    from prefect.settings import PREFECT_API_URL

    from models.db.migrate import upgrade
    from tasks.settings import get_settings

    home = tmp_path_factory.mktemp("served-home")
    url = f"sqlite:///{home / 'drs.sqlite3'}"
    env_vars = {
        "DRS_HOME": str(home),
        "DRS_DATABASE_URL": url,
        "DRS_TEAM_EMAIL": "team@service.example.org",
        "DRS_MAIL_FROM": "mediation@service.example.org",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("DRS_") and k != "DRS_TEST_POSTGRES_URL"]:
            mp.delenv(key)
        for key, value in env_vars.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        upgrade(url)
        from tasks.cases.demo import load_demo
        from tasks.db import unit_of_work

        with unit_of_work() as db:
            load_demo(db, TODAY, NOW, cases=30)
            db.commit()
        api_url = PREFECT_API_URL.value()
        env = {**os.environ, "PREFECT_API_URL": api_url, "PYTHONUNBUFFERED": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
        log = open(home / "serve.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        try:
            _wait_for_deployments(len(DEPLOYMENTS), proc, home / "serve.log")
            yield {"home": home, "log": home / "serve.log", "api_url": api_url}
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            log.close()
            get_settings.cache_clear()
            from tasks.db import engine_for

            engine_for(url).dispose()


def _wait_for_deployments(count: int, proc, log: Path, timeout: float = 90) -> None:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            if len(client.read_deployments()) >= count:
                return
            time.sleep(0.5)
    raise AssertionError("drs serve did not register every deployment:\n" + log.read_text()[-3000:])


def _run_all(runs: dict[str, dict], timeout: float = 150) -> dict[str, object]:
    """Create a run of each deployment (by name) at once, then wait for every one to finish."""
    from prefect.deployments import run_deployment

    created = {name: run_deployment(f"{name}/{name}", parameters=params, timeout=0) for name, params in runs.items()}
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            states = {name: client.read_flow_run(run.id) for name, run in created.items()}
            if all(r.state and r.state.is_final() for r in states.values()):
                return states
            assert time.monotonic() < deadline, {n: r.state.name for n, r in states.items()}
            time.sleep(1)


def test_every_registered_flow_exists_under_its_deployment_name():
    import importlib

    for spec in DEPLOYMENTS:
        assert getattr(importlib.import_module(spec.module), spec.attribute).name == spec.name


def test_schedules_read_back_in_london_time_with_one_run_at_a_time(served):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for spec in DEPLOYMENTS:
            deployment = client.read_deployment_by_name(f"{spec.name}/{spec.name}")
            schedules = sorted((s.schedule.cron, s.schedule.timezone) for s in deployment.schedules)
            assert schedules == sorted((c, TIMEZONE) for c in spec.crons), spec.name
            assert all(s.active for s in deployment.schedules)
            assert deployment.global_concurrency_limit and deployment.global_concurrency_limit.limit == 1, spec.name
            assert not deployment.paused
    # the admin forms: enums are dropdowns, dates are date pickers, every field is described
    with get_client(sync_client=True) as client:
        form = client.read_deployment_by_name(
            "admin-record-case-event/admin-record-case-event"
        ).parameter_openapi_schema
    assert "closed" in form["definitions"]["CaseEventCode"]["enum"]
    assert form["properties"]["on"]["format"] == "date"
    assert all(p.get("description") for p in form["properties"].values())
    assert "your_name" in form["required"]  # issue 17: the audit trail names the person


def test_each_deployment_runs_to_completion_when_triggered_by_name(served):
    from sqlalchemy import select

    from models.db import Case, MediationSession
    from tasks.db import unit_of_work

    url = f"sqlite:///{served['home'] / 'drs.sqlite3'}"
    with unit_of_work(url) as db:
        new_ref = db.scalar(select(Case.ref).where(Case.status == "new").order_by(Case.id))
        meeting = db.scalar(
            select(MediationSession.id).where(MediationSession.status == "scheduled").order_by(MediationSession.id)
        )
    admin = {
        "admin-record-case-event": {
            "case_ref": new_ref,
            "event": "information-given",
            "on": TODAY.isoformat(),
            "your_name": "Sam Admin",
        },
        "admin-cancel-session": {"session_id": meeting, "cancelled_by": "family", "your_name": "Sam Admin"},
    }
    states = _run_all({**{spec.name: PARAMETERS[spec.name] for spec in SCHEDULED if spec.name != "watchdog"}, **admin})
    failed = {n: (r.state.name, r.state.message) for n, r in states.items() if not r.state.is_completed()}
    assert failed == {}, served["log"].read_text()[-4000:]

    # the admin actions changed the database, audited as done from the dashboard
    with unit_of_work(url) as db:
        case = db.scalar(select(Case).where(Case.ref == new_ref))
        assert [(e.event, e.on, e.recorded_by) for e in case.events][-1] == ("information-given", TODAY, "dashboard")
        from models.db import AuditEntry

        assert (
            db.scalar(
                select(AuditEntry.operator)
                .where(AuditEntry.case_id == case.id, AuditEntry.action == "event:information-given")
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
            == "Sam Admin"
        )  # the form's "your name"
        cancelled = db.get(MediationSession, meeting)
        assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "family")

    # the watchdog last, so the heartbeat it reads has the runs above; a refused admin action fails
    last = _run_all(
        {
            "watchdog": {"now": NOW.isoformat()},
            "admin-record-case-event": {
                "case_ref": "DRS-1999-99999",
                "event": "closed",
                "on": TODAY.isoformat(),
                "your_name": "Sam Admin",
            },
        }
    )
    assert last["watchdog"].state.is_completed(), served["log"].read_text()[-4000:]
    assert last["admin-record-case-event"].state.is_failed()
    # a refusal is not a crash: the reason as the state message, one line in the terminal, no traceback
    assert last["admin-record-case-event"].state.message.startswith("refused: ")
    time.sleep(2)  # the run's process output reaches the log
    output = served["log"].read_text()
    assert output.count("DRS-1999-99999") == 1 and "Traceback" not in output, output[-4000:]

    import httpx

    today = httpx.get(f"{served['api_url']}/artifacts/today/latest").json()
    assert today["data"].startswith("# Today — Friday 27 November 2026")
    assert "## Meetings today" in today["data"] and "@" not in today["data"]  # references only
    heartbeat = httpx.get(f"{served['api_url']}/artifacts/job-heartbeat/latest").json()["data"]
    assert "deadline-monitor: last succeeded" in heartbeat
    assert "referral-intake: last succeeded" in heartbeat


def test_late_backlog_after_downtime_is_dropped_keeping_one_catch_up_run(served):
    import asyncio
    from datetime import timedelta

    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from cli.serve import _drop_late_backlog

    async def scenario() -> tuple[int, int]:
        async with get_client() as client:
            # a deployment no runner is polling (the served ones would start the runs at once)
            flow_id = await client.create_flow_from_name("late-backlog-probe")
            deployment_id = await client.create_deployment(flow_id=flow_id, name="late-backlog-probe")
            deployment = await client.read_deployment(deployment_id)
            start = datetime.now(UTC) - timedelta(hours=3)
            for minutes in (0, 60, 120):  # three runs missed while the machine was down
                await client.create_flow_run_from_deployment(
                    deployment.id, state=Scheduled(scheduled_time=start + timedelta(minutes=minutes))
                )
            dropped = await _drop_late_backlog(client, [deployment.id])
            from prefect.client.schemas.filters import (
                FlowRunFilter,
                FlowRunFilterDeploymentId,
                FlowRunFilterState,
                FlowRunFilterStateType,
            )

            left = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["SCHEDULED"])),
                )
            )
            overdue = [r for r in left if r.expected_start_time < datetime.now(UTC) - timedelta(minutes=5)]
            return dropped, len(overdue)

    assert asyncio.run(scenario()) == (2, 1)

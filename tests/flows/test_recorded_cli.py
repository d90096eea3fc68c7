"""A `drs` command with a server up: its run is recorded, stdout is whole JSON and the exit status
is the command's, although the process ends with `os._exit` after sending the run's logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path

import pytest

pytestmark = pytest.mark.flow
REPO = Path(__file__).resolve().parents[2]


class Colour(str, Enum):
    RED = "red"


def test_a_recorded_command_prints_its_json_exits_zero_and_is_on_the_dashboard(prefect_harness, drs_env):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    with get_client(sync_client=True) as client:
        before = len(client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["deliver-email"]))))
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "mail", "deliver", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sent": 0, "retrying": 0, "failed": 0, "remaining": 0}
    assert "not recorded" not in done.stderr
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["deliver-email"])))
    assert len(runs) == before + 1
    assert max(runs, key=lambda r: r.created).state.is_completed()


def test_a_command_run_has_no_heartbeat_and_stores_its_parameters_as_prefect_would(prefect_harness):
    from fastapi.encoders import jsonable_encoder
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import get_current_settings

    from cli.recorded import run_recorded

    @flow(name="recorded-probe")
    def probe(day: date, at: datetime, colour: Colour, refs: list[str], n: int | None = None):
        return get_current_settings().flows.heartbeat_frequency

    params = {
        "day": date(2026, 11, 27),
        "at": datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        "colour": Colour.RED,
        "refs": ["DRS-2026-00001"],
        "n": None,
    }
    assert get_current_settings().flows.heartbeat_frequency is not None  # Prefect's default: on
    assert run_recorded(probe, params) is None  # off inside the command's run
    assert get_current_settings().flows.heartbeat_frequency is not None  # and only there
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["recorded-probe"])))
    assert run.state.is_completed()
    assert run.parameters == jsonable_encoder(params)  # what Prefect's own serializer stores

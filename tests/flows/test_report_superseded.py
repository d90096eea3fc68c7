"""issue 8: a late `monthly-report` run (e.g. picked up after downtime) that finds a newer completed
run of itself for the same month exits early; a late run for another month still does its work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.test_monthly_report import november  # noqa: F401  (fixture)

pytestmark = pytest.mark.flow

LONDON = ZoneInfo("Europe/London")


def _late_run(flow, parameters):
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    due = datetime.now(UTC) - timedelta(hours=2)
    with get_client(sync_client=True) as client:
        return client.create_flow_run(flow, parameters=parameters, state=Scheduled(scheduled_time=due))


def test_late_run_for_a_month_already_done_exits_early(prefect_harness, november, tmp_path):  # noqa: F811
    from prefect.flow_engine import run_flow_sync

    from flows.report import monthly_report

    now = datetime(2026, 12, 1, 6, 30, tzinfo=LONDON)
    params = {"month": "2026-11", "now": now, "out": str(tmp_path / "a")}
    late = _late_run(monthly_report, params)  # due two hours ago, not started (the server was down)
    done = monthly_report(**params)  # the newer run: done
    assert done["emails"]["queued"] == 6

    skipped = run_flow_sync(monthly_report, flow_run=late, parameters=params)
    assert skipped["month"] == "2026-11" and skipped["superseded_by"]
    assert "workbook" not in skipped

    # a late run of another month is not superseded by November's run (a month far from the real
    # clock: deployments triggered by other tests report the month before the real today)
    earlier = {"month": "2025-09", "now": now, "out": str(tmp_path / "b")}
    other = run_flow_sync(monthly_report, flow_run=_late_run(monthly_report, earlier), parameters=earlier)
    assert other["month"] == "2025-09" and "superseded_by" not in other
    assert (tmp_path / "b" / "drs-monthly-2025-09.xlsx").exists()
    # and a run started now never skips (what the CLI and the dashboard's Run button do)
    again = monthly_report(**params)
    assert "superseded_by" not in again and again["emails"]["already_queued"] == 6

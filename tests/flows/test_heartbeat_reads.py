"""The job history is read for every job at once and gives what one read after another gave:
the latest COMPLETED end time per flow name, None for a flow never completed, and the first
failure's name when the API cannot be read (issue 14)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.flow


def _one_after_another(names):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    result = {}
    with get_client(sync_client=True) as client:
        for name in names:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
                ),
                sort=FlowRunSort.END_TIME_DESC,
                limit=1,
            )
            result[name] = runs[0].end_time if runs and runs[0].end_time is not None else None
    return result


def test_the_reads_at_once_give_what_the_reads_one_by_one_gave(prefect_harness):
    from prefect import flow

    from flows.heartbeat import last_successes

    @flow(name="heartbeat-read-a")
    def a() -> None:
        return None

    @flow(name="heartbeat-read-b")
    def b() -> None:
        raise ValueError("not completed")

    a()
    a()
    b(return_state=True)
    names = ["heartbeat-read-a", "heartbeat-read-b", "heartbeat-read-never"]
    beat = last_successes(names)
    assert beat.api_error is None
    assert beat.last_success == _one_after_another(names)
    assert beat.last_success["heartbeat-read-a"] is not None
    assert beat.last_success["heartbeat-read-b"] is None and beat.last_success["heartbeat-read-never"] is None


def test_an_unreadable_history_names_the_failure(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.heartbeat import last_successes

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        beat = last_successes(["x", "y"])
    assert beat.last_success == {"x": None, "y": None}
    assert beat.api_error is not None and beat.api_error.endswith("Error")

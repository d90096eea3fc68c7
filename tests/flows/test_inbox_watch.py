"""`drs serve`'s minute watch starts a `referral-intake` run when files wait — once, not again
while that run is on its way — and none when the inbox is empty."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.flow


def test_the_watch_starts_one_intake_run_when_files_wait(prefect_harness, drs_env):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from cli.watch import check_inbox
    from flows.deployments import get_spec, to_runner_deployment
    from tasks.intake.referral_intake import inbox_dir

    deployment_id = to_runner_deployment(get_spec("referral-intake")).apply()

    def runs() -> list:
        with get_client(sync_client=True) as client:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )

    def delete_runs() -> None:  # nothing executes them here; the next test starts clean
        with get_client(sync_client=True) as client:
            for run in runs():
                client.delete_flow_run(run.id)

    delete_runs()
    try:
        _check(runs, check_inbox, inbox_dir)
    finally:
        delete_runs()


def _check(runs, check_inbox, inbox_dir) -> None:
    assert asyncio.run(check_inbox()) is False  # nothing waiting: no run
    assert runs() == []
    inbox = inbox_dir()
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "form-1.json").write_text("[]")
    assert asyncio.run(check_inbox()) is True
    assert len(runs()) == 1 and "inbox-watch" in runs()[0].tags
    assert asyncio.run(check_inbox()) is False  # that run is on its way: not another
    assert len(runs()) == 1

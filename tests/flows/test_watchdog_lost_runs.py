"""The watchdog is the backstop for a machine that died (issue 18): a run the crash automation
marked Crashed is reported to the team by the next watchdog run even when no task worker is
watching — once per run, however often the watchdog runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.flow


def _a_run_lost_with_its_machine() -> str:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    from flows.crashes import CRASH_MESSAGE

    @flow(name="referral-intake")
    def stand_in() -> None:  # only its run is needed: it never runs
        return None

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(stand_in, name="quiet-otter")
        client.set_flow_run_state(run.id, Crashed(message=CRASH_MESSAGE), force=True)
    return str(run.id)


def test_the_watchdog_reports_a_run_lost_with_its_machine_once(prefect_harness, drs_env, las):
    from prefect.client.orchestration import get_client
    from sqlalchemy import select

    from flows.watchdog import watchdog
    from models.db import OutboxEmail
    from tasks.db import unit_of_work
    from tasks.operations.crashes import crash_email_key

    run_id = _a_run_lost_with_its_machine()
    try:
        now = datetime.now(UTC)
        watchdog(now=now)
        watchdog(now=now)
        with unit_of_work() as db:
            rows = db.scalars(select(OutboxEmail).where(OutboxEmail.key == crash_email_key(run_id))).all()
            assert len(rows) == 1
            assert rows[0].to_addr == drs_env.team_email
            assert "referral-intake" in rows[0].subject and "quiet-otter" in rows[0].body_text
    finally:  # the shared test server forgets the run: other tests' watchdogs must not report it
        with get_client(sync_client=True) as client:
            client.delete_flow_run(run_id)

"""Prefect's own records for a year: with the retention `make run` gives the server, the database
vacuum deletes flow runs that ended more than 90 days ago and keeps the recent ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.flow


def test_the_vacuum_deletes_runs_older_than_the_retention_and_keeps_recent_ones(prefect_harness):
    import sqlalchemy as sa
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.server.database import provide_database_interface
    from prefect.server.services.db_vacuum import vacuum_old_flow_runs
    from prefect.settings import temporary_settings

    from cli.run import PREFECT_RETENTION

    @flow(name="retention-probe")
    def probe() -> int:
        return 1

    old, recent = (probe(return_state=True).state_details.flow_run_id for _ in range(2))
    settings = {
        "server.services.db_vacuum.enabled": PREFECT_RETENTION["PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"],
        "server.services.db_vacuum.retention_period": int(
            PREFECT_RETENTION["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"]
        ),
    }

    async def age_and_vacuum() -> None:
        db = provide_database_interface()
        async with db.session_context(begin_transaction=True) as session:
            await session.execute(
                sa.update(db.FlowRun)
                .where(db.FlowRun.id == old)
                .values(end_time=datetime.now(UTC) - timedelta(days=91))
            )
            await session.execute(
                sa.update(db.FlowRun)
                .where(db.FlowRun.id == recent)
                .values(end_time=datetime.now(UTC) - timedelta(days=89))
            )
        with temporary_settings(updates=settings):
            await vacuum_old_flow_runs(db=db)

    asyncio.run(age_and_vacuum())
    with get_client(sync_client=True) as client:
        with pytest.raises(ObjectNotFound):
            client.read_flow_run(old)
        assert client.read_flow_run(recent).state.is_completed()

"""Admin forms from the dashboard: a refusal is a Failed run with its reason and one log line (no
traceback); a start without an offset is UK time; no SQL ever reaches a state message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.integration.test_sessions_cli import MEDIATOR, make_case

pytestmark = pytest.mark.flow

LONDON = ZoneInfo("Europe/London")


def _logs(state) -> list:
    """The run's log records as the dashboard shows them (after the log worker has flushed)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        return client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))


def test_an_unknown_case_fails_the_run_with_the_reason_and_no_traceback(prefect_harness, las):
    """(The `make run` terminal — `drs serve` running the deployment — is checked in
    tests/flows/test_deployments.py: the reason once, no traceback.)"""
    from flows.admin import record_case_event

    state = record_case_event(
        case_ref="DRS-1999-99999", event="closed", on="2026-11-27", your_name="Test Admin", return_state=True
    )
    assert state.is_failed()
    assert state.message.startswith("refused:") and "DRS-1999-99999" in state.message
    logs = _logs(state)
    assert [r.message for r in logs if "refused" in r.message] == [state.message]
    assert not any("Traceback" in r.message for r in logs)
    assert [r.level for r in logs if "refused" in r.message] == [30]  # one WARNING line


def test_a_meeting_booked_without_an_offset_is_uk_time(prefect_harness, las):
    from flows.admin import reschedule_session, schedule_session
    from models.db import MediationSession
    from tasks.cases.registry import add_mediator
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        add_mediator(db, "Mia Mediator", MEDIATOR, datetime(2026, 10, 1, 9, tzinfo=LONDON))
        db.commit()
    ref = make_case()
    # far ahead: the admin forms book from the real clock
    booked = schedule_session(
        case_ref=ref,
        start="2035-07-10T10:00:00",
        mediator_email=MEDIATOR,
        your_name="Test Admin",
        venue="Community Hall",
        short_notice_agreed=True,
        return_state=True,
    )
    assert booked.is_completed(), booked.message
    session_id = booked.result()["session_id"]
    moved = reschedule_session(
        session_id=session_id,
        start="2035-12-10T10:00:00",
        end="2035-12-10T12:00:00",
        your_name="Test Admin",
        short_notice_agreed=True,
        return_state=True,
    )
    assert moved.is_completed(), moved.message
    with unit_of_work() as db:
        meeting = db.get(MediationSession, session_id)
        assert meeting.start_at.astimezone(LONDON).hour == 10  # winter: 10:00 GMT
        assert meeting.start_at.utcoffset().total_seconds() == 0 and meeting.start_at.hour == 10


def test_a_database_error_is_said_plainly_without_sql(prefect_harness, las, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    import tasks.cases.casework
    from flows.admin import record_case_event

    def broken(*args, **kwargs):
        raise IntegrityError(
            "INSERT INTO case_events (case_id, code) VALUES (?, ?)",
            (1, "closed"),
            Exception("UNIQUE constraint failed"),
        )

    monkeypatch.setattr(tasks.cases.casework, "record_event", broken)
    ref = make_case()
    state = record_case_event(case_ref=ref, event="closed", on="2026-11-27", your_name="Test Admin", return_state=True)
    assert state.is_failed()
    assert "database refused the change" in state.message
    assert "INSERT" not in state.message and "case_events" not in state.message

"""Dates that cannot be, in the flows and the dashboard's admin forms (issue #12 §3): a flow given
a date outside 2000-2100, or an event dated before the case's decision letter, fails with the
reason and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.monitor_cases import make_case

pytestmark = pytest.mark.flow


def _written() -> tuple[int, int, int]:
    from models.db import AuditEntry, CaseEvent, OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return tuple(db.scalar(select(func.count()).select_from(t)) for t in (AuditEntry, CaseEvent, OutboxEmail))


def test_flows_refuse_impossible_dates_and_events_before_the_letter(prefect_harness, las):
    from flows.admin import record_case_event
    from flows.monitor import deadline_monitor

    ref = make_case("E08000006", received_on=date(2026, 11, 20), letter_sent_on=date(2026, 11, 12))
    before = _written()
    state = deadline_monitor(today=date(2999, 1, 1), wait_for_approval=False, return_state=True)
    assert state.is_failed()
    with pytest.raises(ValueError, match="today 2999-01-01 is outside 2000-01-01 to 2100-12-31"):
        state.result()
    state = record_case_event(
        case_ref=ref, event="withdrawn", on=date(2026, 11, 1), your_name="Test Admin", return_state=True
    )
    assert state.is_failed()
    with pytest.raises(Exception, match=f"refused: event date .* before the decision letter of {ref}"):
        state.result()
    assert _written() == before

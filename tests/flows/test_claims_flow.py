"""The real `expense-routing` flow: claims from the inbox, batches to each finance mailbox on a real
SMTP server, an admin approving a held claim through the pause-for-input form, the table
artifact, and a second run that sends nothing."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from datetime import date, timedelta

import pytest

from tests.integration.test_claims_support import NOW, TODAY, claim, claims_by_id, make_case, write_csv

pytestmark = pytest.mark.flow

SALFORD, MANCHESTER, BOLTON = "E08000006", "E08000003", "E08000001"


def _answer_when_paused(decision: dict, answered: list) -> threading.Thread:
    """A thread that resumes the first paused flow run with `decision` (as the dashboard would)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    def run() -> None:
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline and not answered:
                paused = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                    )
                )
                for run_ in paused:
                    try:
                        resume_flow_run(run_.id, run_input=decision)
                    except RuntimeError:  # paused, but the form's schema not saved yet: ask again
                        break
                    answered.append(run_.name)
                    return
                time.sleep(0.3)

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(run,), daemon=True)
    thread.start()
    return thread


def test_routing_with_an_admin_decision_then_nothing_twice(prefect_harness, smtp_server, las, drs_env):
    from prefect.client.orchestration import get_client

    from flows.claims import expense_routing
    from tasks.mail.delivery import deliver_pending

    s, m = make_case(SALFORD, 1), make_case(MANCHESTER, 2)
    b = make_case(BOLTON, 3, meeting=date(2026, 8, 3))  # Bolton: 90-day window, so this claim is late
    inbox = drs_env.inbox_dir / "claims"
    inbox.mkdir(parents=True)
    write_csv(
        inbox / "web-form.csv",
        [
            claim("S-1", s, 1, miles="10"),
            claim("S-2", s, 1, "parking", amount="3.20"),
            claim("M-1", m, 2, miles="10"),
            claim("B-1", b, 3, miles="11", session_date="2026-08-03"),
        ],
    )

    answered: list = []
    thread = _answer_when_paused({"decision": "approve", "reason": "Family was unwell; late claim allowed."}, answered)
    state = expense_routing(today=TODAY, now=NOW, admin_wait_minutes=1, admin_poll_seconds=1, return_state=True)
    thread.join(5)
    assert state.is_completed(), state
    result = state.result()
    assert answered, "the flow never paused for the admin"
    assert result["imported"]["imported"] == 4 and result["imported"]["held"] == 1
    assert result["decisions"] == [{"claim_id": "B-1", "case_ref": b, "status": "approved"}]
    assert sorted((x["la"], x["claims"], x["total_pence"]) for x in result["batches"]) == [
        (BOLTON, 1, 495),
        (MANCHESTER, 1, 400),
        (SALFORD, 2, 770),
    ]
    assert result["held"] == 0
    assert {c.status for c in claims_by_id().values()} == {"sent"}

    with get_client(sync_client=True) as client:
        latest = [a for a in client.read_latest_artifacts() if a.key == "expense-routing-batches"]
    assert len(latest) == 1
    table = json.loads(latest[0].data) if isinstance(latest[0].data, str) else latest[0].data
    assert {"la": SALFORD, "batch": "EXP-E08000006-20261127-01", "claims": 2, "total": "£7.70", "note": ""} in table
    assert len(table) == 3
    assert "Parent" not in str(table) and "families.example" not in str(table)

    deliver_pending(NOW + timedelta(minutes=1))
    for address in ("finance@salford.example.org", "finance@manchester.example.org", "finance@bolton.example.org"):
        assert len(smtp_server.to(address)) == 1, address

    smtp_server.clear()
    again = expense_routing(today=TODAY, now=NOW + timedelta(hours=1))
    assert again["batches"] == [] and again["claims_sent"] == 0 and again["imported"]["imported"] == 0
    deliver_pending(NOW + timedelta(hours=2))
    assert smtp_server.messages == []


def test_unanswered_decision_leaves_the_claim_held_and_the_run_completed(prefect_harness, las, drs_env):
    from flows.claims import expense_routing

    b = make_case(BOLTON, 3, meeting=date(2026, 8, 3))
    inbox = drs_env.inbox_dir / "claims"
    inbox.mkdir(parents=True)
    write_csv(inbox / "late.csv", [claim("B-9", b, 3, miles="11", session_date="2026-08-03")])
    started = time.monotonic()
    state = expense_routing(today=TODAY, now=NOW, admin_wait_minutes=0.05, admin_poll_seconds=1, return_state=True)
    assert state.is_completed(), state
    assert state.result()["held"] == 1 and state.result()["batches"] == []
    assert claims_by_id()["B-9"].status == "held"
    assert time.monotonic() - started < 30

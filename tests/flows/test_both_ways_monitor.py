"""The deadline monitor run both ways on the same data — its orchestrator with plain calls (what
`drs monitor` does without a server) and the Prefect flow — leaves the same summary, the same rows
in every table (outbox, certificates, clocks, audit, meta) and the same files (issue 13)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.monitor_cases import at, make_case

pytestmark = pytest.mark.flow
SALFORD, MANCHESTER = "E08000006", "E08000003"
TODAY = date(2026, 12, 3)  # a Thursday
#: The audit log's real wall-clock time of writing differs from run to run, whichever way.
IGNORED = DEFAULT_IGNORED | {"recorded_at"}
NOW = at(TODAY, 6, 45)


def _seed() -> dict[str, str]:
    """A clock missed yesterday (the LA's `mediation_by`), one due soon, a declined certificate the
    monitor issues itself, and one an LA wants approved first."""
    from tests.monitor_cases import set_needs_approval

    set_needs_approval(MANCHESTER)
    return {
        "missed": make_case(  # mediation_by Wed 2 Dec: missed today
            SALFORD,
            received_on=date(2026, 10, 29),
            letter_sent_on=date(2026, 10, 20),
            events=(
                ("information-given", date(2026, 10, 30), {}),
                ("mediation-requested", date(2026, 10, 30), {}),
                ("la-received-request", date(2026, 11, 2), {}),
            ),
        ),
        "due-soon": make_case(  # mediation_by Fri 4 Dec: due soon
            SALFORD,
            received_on=date(2026, 10, 29),
            letter_sent_on=date(2026, 10, 20),
            events=(
                ("information-given", date(2026, 10, 30), {}),
                ("mediation-requested", date(2026, 10, 30), {}),
                ("la-received-request", date(2026, 11, 4), {}),
            ),
        ),
        "automatic": make_case(
            SALFORD,
            received_on=date(2026, 11, 20),
            letter_sent_on=date(2026, 11, 12),
            events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 12, 1), {})),
        ),
        "approval": make_case(
            MANCHESTER,
            received_on=date(2026, 11, 20),
            letter_sent_on=date(2026, 11, 12),
            events=(("mediation-declined", date(2026, 12, 1), {}),),
            email="other.parent@families.example",
        ),
    }


def test_the_monitor_does_the_same_both_ways(prefect_harness, drs_env, las):
    from flows.heartbeat import job_history
    from flows.monitor import deadline_monitor
    from tasks.deadlines import job

    refs = _seed()
    direct, flowed = both_ways(
        drs_env,
        lambda: job.run(TODAY, NOW, job_history=job_history),
        lambda: deadline_monitor(today=TODAY, now=NOW, wait_for_approval=False),
        ignore=IGNORED,
    )
    summary = direct.summary.as_dict()
    assert summary["alerts"]["missed"] >= 1 and summary["alerts"]["due-soon"] >= 1, summary
    assert summary["certificates_issued"] == [refs["automatic"]]
    assert summary["awaiting_approval"] == [refs["approval"]]
    assert summary["digest_queued"] is True and summary["digest_rows"] >= 2
    assert direct.summary.skipped == ("dashboard artifacts", "approval pauses")
    assert summary == flowed.summary
    assert any(path.startswith("certificates/") for path, _ in direct.files)
    assert direct.files == flowed.files
    digest = [row for row in direct.tables["outbox"] if "digest:2026-12-03" in row]
    assert len(digest) == 1 and "When each scheduled job last succeeded:" in str(digest[0])
    assert direct.tables == flowed.tables


def test_the_comparison_sees_a_drift(prefect_harness, drs_env, las):
    """Without the job history the direct digest differs from the flow's: the test can fail."""
    from flows.monitor import deadline_monitor
    from tasks.deadlines import job

    _seed()
    direct, flowed = both_ways(
        drs_env,
        lambda: job.run(TODAY, NOW),
        lambda: deadline_monitor(today=TODAY, now=NOW, wait_for_approval=False),
        ignore=IGNORED,
    )
    assert direct.summary.as_dict() == flowed.summary
    assert direct.tables["outbox"] != flowed.tables["outbox"]

"""The retention job both ways on the same data (issue 13): `tasks.privacy.job.run` with plain
calls (what `drs retention` does with no server) and the `retention` flow must leave the same
database and the same files, and return the same summary — cases past retention anonymised,
one under legal hold kept with its files, old file copies deleted."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.integration.test_retention import NOW, TODAY, _case, _extras

pytestmark = pytest.mark.flow

#: the real time an audit line was written: not decided by the job's data
IGNORED = DEFAULT_IGNORED | {"recorded_at"}


@pytest.fixture
def retention_data(drs_env, las):
    from tasks.db import unit_of_work

    home = drs_env.home
    with unit_of_work() as db:
        old = _case(db, "Salford", 1, closed_on=date(2024, 11, 28))
        held = _case(db, "Bolton", 2, closed_on=date(2024, 6, 1))
        recent = _case(db, "Manchester", 3, closed_on=date(2024, 12, 2))
        _extras(db, old, home, 1)  # certificate PDFs under DRS_HOME, restored between the two runs
        _extras(db, held, home, 2)
        held.legal_hold_reason, held.legal_hold_since, held.legal_hold_by = "tribunal appeal", NOW, "test"
        db.commit()
        refs = {"old": old.ref, "held": held.ref, "recent": recent.ref}
    stamp = datetime(2024, 6, 1, 12, tzinfo=UTC).timestamp()
    for name, text in (("web-export-2024-06.json", '[{"child": "Child Testwell"}]'), ("new.json", "[]")):
        copy = home / "inbox" / "referrals" / "processed" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(text)
        if name != "new.json":
            os.utime(copy, (stamp, stamp))
    return refs


def test_retention_both_ways_leaves_the_same_database_files_and_summary(prefect_harness, drs_env, retention_data):
    from flows.retention import retention
    from tasks.privacy import job
    from tasks.timekeeping import resolve_now

    def direct() -> dict:
        today, now = resolve_now(None, TODAY)
        summary = job.run(today, now)
        assert summary.skipped == job.FLOW_ONLY
        return summary.as_dict()

    d, f = both_ways(drs_env, direct, lambda: retention(today=TODAY), ignore=IGNORED)

    assert d.summary == f.summary
    assert d.summary["refs"] == [retention_data["old"]] and d.summary["held"] == [retention_data["held"]]
    assert d.summary["files_removed"] == {"inbox/referrals/processed": 1}
    assert d.summary["certificates"] == 1 and d.summary["cases"] == 1
    assert d.tables == f.tables
    assert d.files == f.files
    kept = [name for name, _ in d.files]
    assert "certificate-2.pdf" in kept and "certificate-1.pdf" not in kept  # the held case's file stays
    assert "inbox/referrals/processed/new.json" in kept

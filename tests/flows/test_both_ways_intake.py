"""The referral-intake job run both ways — `drs intake` with no Prefect server (the orchestrator
with plain calls) and the `referral-intake` flow — on the same drop: same summary, same rows in
every table, same files under DRS_HOME (issue 13: one orchestrator per job)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.intake_samples import referral, write_csv, write_json

pytestmark = pytest.mark.flow

#: Not decided by the job's data: the wall-clock time an audit line was written.
IGNORED = DEFAULT_IGNORED | {"recorded_at"}
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def drop(drs_env, las):
    """A drop with good and bad records, in JSON and CSV, and one file that cannot be read."""
    inbox = drs_env.home / "inbox" / "referrals"
    write_json(
        inbox / "web.json",
        [
            referral("BW-1", wants_mediation="yes"),
            referral("BW-2", requester_email="not-an-address", child_name="Bad Email"),
            referral("BW-3", local_authority="Atlantis"),
        ],
    )
    write_csv(
        inbox / "export.csv",
        [referral("BW-4", child_name="Child Four"), referral("BW-5", decision_letter_sent_on="2031-01-01")],
    )
    (inbox / "broken.json").write_text("[{")
    os.utime(inbox / "broken.json", (0, 0))
    return inbox


def test_intake_both_ways_leaves_the_same_summary_rows_and_files(prefect_harness, drs_env, drop):
    from flows.intake import referral_intake
    from tasks.intake import job

    direct, flowed = both_ways(
        drs_env,
        lambda: job.run(TODAY, NOW),
        lambda: referral_intake(today=TODAY, now=NOW),
        ignore=IGNORED,
    )
    for name in direct.tables:  # the rows that differ, if any, say which way did what
        assert direct.tables[name] == flowed.tables[name], name

    # the direct path says what only the flow does; otherwise the same summary
    assert direct.summary.skipped == ("dashboard artifacts", "background delivery")
    assert replace(direct.summary, skipped=()).as_dict() == flowed.summary
    assert (flowed.summary["imported"], flowed.summary["rejected"]) == (2, 4)
    assert direct.tables == flowed.tables
    assert direct.files == flowed.files
    # not trivially equal: cases, outbox emails and the rejected copies are there
    assert len(direct.tables["cases"]) == 2 and direct.tables["outbox"]
    rejected = sorted(path for path, _ in direct.files if path.startswith("inbox/referrals/rejected/"))
    assert rejected == [
        "inbox/referrals/rejected/broken.json",
        "inbox/referrals/rejected/broken.json.errors.json",
        "inbox/referrals/rejected/export.csv",
        "inbox/referrals/rejected/export.csv.errors.json",
        "inbox/referrals/rejected/web.json",
        "inbox/referrals/rejected/web.json.errors.json",
    ]


def test_the_both_ways_comparison_sees_a_difference(prefect_harness, drs_env, drop):
    """The comparison can fail: a flow that did one thing more is told apart."""
    from flows.intake import referral_intake
    from tasks.intake import job

    def flowed_and_more():
        summary = referral_intake(today=TODAY, now=NOW)
        (drs_env.home / "inbox" / "referrals" / "processed" / "extra.json").write_text("[]")
        return summary

    direct, flowed = both_ways(drs_env, lambda: job.run(TODAY, NOW), flowed_and_more, ignore=IGNORED)
    assert direct.tables == flowed.tables
    assert direct.files != flowed.files

"""The weekly `retention` flow end to end: cases anonymised and old file copies deleted, the
artifact says so with counts and folders only."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest

pytestmark = pytest.mark.flow


def test_retention_run_deletes_old_copies_and_reports_them(prefect_harness, drs_env):
    from prefect.client.orchestration import get_client

    from flows.retention import retention

    old_copy = drs_env.home / "inbox" / "referrals" / "processed" / "web-export-2024-06.json"
    old_copy.parent.mkdir(parents=True)
    old_copy.write_text('[{"child": {"name": "Child Testwell"}}]')
    stamp = datetime(2024, 6, 1, 12, tzinfo=UTC).timestamp()
    os.utime(old_copy, (stamp, stamp))

    summary = retention(today=date(2026, 11, 29))

    assert not old_copy.exists()
    assert summary["files_removed"] == {"inbox/referrals/processed": 1} and summary["cases"] == 0
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts(limit=50)
    text = next(a.data for a in artifact if a.key == "retention")
    assert "deleted: 1 (inbox/referrals/processed: 1)" in text and "Testwell" not in text

"""Retention for files on disk: copies of personal data older than the retention period go."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

TODAY = date(2026, 11, 29)


def _file(path, modified: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Child Testwell, 2 Mar 2015")
    os.utime(path, (modified.timestamp(), modified.timestamp()))


def test_old_copies_of_personal_data_go_and_everything_else_stays(drs_env):
    from tasks.privacy.file_retention import remove_old_copies

    home = drs_env.home
    old, recent = datetime(2024, 11, 28, 12, tzinfo=UTC), datetime(2024, 11, 29, 12, tzinfo=UTC)
    gone = [
        home / "inbox/referrals/processed/web-2024-11.json",
        home / "inbox/referrals/rejected/bad.csv.errors.json",
        home / "inbox/claims/processed/claims.csv",
        home / "outbox/sent/ack.DRS-2024-00001.eml",
        home / "reports/claims/SAL-2024-001.xlsx",
    ]
    kept = [
        home / "inbox/referrals/processed/web-2024-11b.json",  # exactly 24 months old: kept
        home / "inbox/referrals/waiting.json",  # not yet imported
        home / "reports/monthly/drs-monthly-2024-10.xlsx",
    ]  # figures only
    for path in gone:
        _file(path, old)
    _file(kept[0], recent)
    for path in kept[1:]:
        _file(path, old)

    summary = remove_old_copies(TODAY).as_dict()

    assert [p for p in gone if p.exists()] == []
    assert all(p.exists() for p in kept)
    assert summary == {
        "files_older_than": "2024-11-29",
        "file_errors": [],
        "files_removed": {
            "inbox/referrals/processed": 1,
            "inbox/referrals/rejected": 1,
            "inbox/claims/processed": 1,
            "outbox/sent": 1,
            "reports/claims": 1,
        },
    }
    assert remove_old_copies(TODAY).as_dict()["files_removed"] == {}  # a second run finds nothing

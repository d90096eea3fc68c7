"""The `referral-intake` flow, run for real under the Prefect test server."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

import pytest

from tests.intake_samples import CHILD_NAME, PARENT_NAME, referral, write_csv, write_json, write_xlsx

pytestmark = pytest.mark.flow


@pytest.fixture
def inbox(drs_env, las):
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def test_referral_intake_flow_imports_files_and_publishes_a_summary_without_names(prefect_harness, inbox):
    from prefect.artifacts import Artifact

    from flows.intake import ARTIFACT_KEY, referral_intake
    from tasks.intake.referral_intake import import_referral_files

    write_json(
        inbox / "a.json",
        [
            referral("TT-1", wants_mediation="yes"),
            referral("TT-2", requester_email="zebedee-at-home", child_name="Bad Record"),
        ],
    )
    write_csv(inbox / "b.csv", [referral("TT-3", child_name="Child Three")])
    write_xlsx(inbox / "c.xlsx", [referral("TT-4", child_name="Child Four", local_authority="Bolton Council")])
    (inbox / "d.json").write_text("[{")
    os.utime(inbox / "d.json", (0, 0))

    summary = referral_intake(today=date(2026, 11, 23))

    assert (summary["imported"], summary["duplicates"], summary["rejected"]) == (3, 0, 2)
    assert [r["case_ref"] for r in summary["results"] if r["status"] == "imported"] == [
        "DRS-2026-00001",
        "DRS-2026-00002",
        "DRS-2026-00003",
    ]
    # the flow returns exactly what the direct path would: a second run is all duplicates, same shape
    again = import_referral_files(
        [str(inbox / "processed")], today=date(2026, 11, 23), now=datetime(2026, 11, 23, 9, tzinfo=UTC)
    )
    assert set(again.document()) == set(summary)

    artifact = Artifact.get(ARTIFACT_KEY)
    assert artifact is not None and artifact.type == "table"
    table = artifact.data if isinstance(artifact.data, list) else json.loads(artifact.data)
    rows = {row["item"]: row["value"] for row in table}
    assert rows["imported"] == "3" and rows["rejected"] == "2" and rows["duplicates"] == "0"
    assert rows["new cases"] == "DRS-2026-00001, DRS-2026-00002, DRS-2026-00003"
    assert rows["rejected because: requester email does not look like an email address"] == "1"
    assert rows["rejected because: the file could not be read"] == "1"
    text = json.dumps(table) + (artifact.description or "")
    for personal in (CHILD_NAME, PARENT_NAME, "Bad Record", "zebedee", "@", "families.example", "a.json", "b.csv"):
        assert personal not in text


def test_drs_intake_runs_the_flow_when_a_server_is_reachable(prefect_harness, inbox, drs, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    write_json(inbox / "a.json", referral("TT-1"))
    r = drs("intake", "--today", "2026-11-23", "--json")
    assert r.exit_code == 0, r.stderr
    assert "not recorded" not in r.stderr  # it ran as a recorded flow run
    assert r.json() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 0,
        "results": [
            {"source": "a.json", "form_id": "TT-1", "status": "imported", "case_ref": "DRS-2026-00001", "errors": []}
        ],
    }

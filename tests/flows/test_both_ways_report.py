"""The monthly report both ways (issue 13): its orchestrator with plain calls (what `drs report
monthly` runs with no Prefect server) and the `monthly-report` flow, on the same known November —
the same summary, the same rows in every table, the same files, and the same value in every cell
of every workbook (the attachments' bytes differ only by their zip timestamps)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.both_ways import DEFAULT_IGNORED, both_ways
from tests.integration.test_monthly_report import november  # noqa: F401  (fixture)
from tests.integration.test_monthly_report_cells import report_cells

pytestmark = pytest.mark.flow

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=ZoneInfo("Europe/London"))


def test_monthly_report_both_ways(prefect_harness, november, drs_env, tmp_path):  # noqa: F811
    from flows.report import monthly_report
    from tasks.reporting import job
    from tasks.steps import call

    def direct():
        summary = job.run("2026-11", NOW, step=call)
        return summary, report_cells(summary.as_dict())

    def flowed():
        document = monthly_report(month="2026-11", now=NOW)
        return document, report_cells(document)

    a, b = both_ways(drs_env, direct, flowed, ignore=DEFAULT_IGNORED | {"content"})
    (summary, direct_cells), (document, flowed_cells) = a.summary, b.summary
    assert summary.as_dict() == document
    assert summary.skipped == job.DIRECT_SKIPS and document["emails"]["queued"] == 6
    assert a.tables == b.tables
    assert a.files == b.files and any(path.endswith("drs-monthly-2026-11.xlsx") for path, _ in a.files)
    assert direct_cells == flowed_cells and len(direct_cells) == 6

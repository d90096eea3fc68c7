"""The real `monthly-report` flow: default month, artifacts, and the emails as a real SMTP server
receives them (each LA's attachment opened with openpyxl and checked for other LAs' cases)."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.integration.test_monthly_report import november  # noqa: F401  (fixture)

pytestmark = pytest.mark.flow

LONDON = ZoneInfo("Europe/London")


def test_monthly_report_flow_writes_publishes_and_emails(prefect_harness, november, smtp_server, tmp_path):  # noqa: F811
    from prefect.artifacts import Artifact

    from flows.report import monthly_report
    from tasks.mail.delivery import deliver_pending

    now = datetime(2026, 12, 1, 6, 30, tzinfo=LONDON)
    result = monthly_report(today=date(2026, 12, 1), now=now, out=str(tmp_path / "out"))
    assert result["month"] == "2026-11"  # the month just ended
    assert result["emails"]["queued"] == 6

    link = Artifact.get("monthly-report-link")
    assert link is not None and link.type == "markdown", link.type  # link artifacts are stored as markdown
    assert "drs-monthly-2026-11.xlsx" in str(link.data) and "file://" in str(link.data)
    kpis = Artifact.get("monthly-report-kpis")
    assert kpis is not None and "All local authorities" in str(kpis.data) and "2/3 (67%)" in str(kpis.data)
    assert "Pat" not in str(kpis.data) and "families.example" not in str(kpis.data)

    summary = deliver_pending(now)
    assert summary.failed == 0
    (salford_mail,) = smtp_server.to("contracts@salford.example.org")
    assert salford_mail["Subject"] == "Monthly report for Salford: November 2026"
    (attachment,) = list(salford_mail.iter_attachments())
    assert attachment.get_filename() == "drs-monthly-2026-11-E08000006.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    texts = {str(c.value) for s in wb for row in s.iter_rows() for c in row if c.value is not None}
    assert november["A"] in texts and november["E"] not in texts and november["F"] not in texts
    (team_mail,) = smtp_server.to("team@service.example.org")
    (full,) = list(team_mail.iter_attachments())
    full_texts = {
        str(c.value)
        for s in openpyxl.load_workbook(io.BytesIO(full.get_content()))
        for row in s.iter_rows()
        for c in row
        if c.value is not None
    }
    assert {november["A"], november["E"]} <= full_texts

    again = monthly_report(month="2026-11", now=now, out=str(tmp_path / "out"))
    assert again["emails"]["queued"] == 0 and again["emails"]["already_queued"] == 6

"""The streamed monthly workbook (`reports.monthly.stream`): an error while a sheet is written is
the error raised (the sheet's zip member is closed first), and the month's writer leaves no
half-written file behind."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest

from reports.monthly import workbook
from reports.monthly.report import MonthlyReport, ScopeFigures
from tasks.reporting import workbooks


def _report() -> MonthlyReport:
    scope = ScopeFigures("ALL", "All local authorities", (), (), ())
    return MonthlyReport("2026-10", date(2026, 10, 1), date(2026, 10, 31), date(2026, 4, 1), scope, (), (), (), ())


def _failing(s, report, *args):  # noqa: ANN001
    s.row("a row before the failure")
    raise RuntimeError("figures went wrong")


def test_an_error_in_a_sheet_is_raised_as_itself(monkeypatch):
    monkeypatch.setattr(workbook.sheets, "summary", _failing)
    with pytest.raises(RuntimeError, match="figures went wrong"):
        workbook.write_workbook(_report(), datetime(2026, 11, 1, 9, 0), io.BytesIO())


def test_a_failed_workbook_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setattr(workbook.sheets, "clocks", _failing)
    target = tmp_path / "drs-monthly-2026-10.xlsx"
    with pytest.raises(RuntimeError):
        workbooks._write(target, _report(), datetime(2026, 11, 1, 9, 0))
    assert list(tmp_path.iterdir()) == []

"""Issue 14: the monthly workbooks written by the new writer read back exactly as the old one's.

A synthetic database (the benchmark's generator: cases in every state over 50 months, 5 LAs) is
reported for two months, with hostile text put into the report (formula triggers, control
characters) so the guard is exercised; the full workbook and each LA's are written by
`reports.monthly.workbook.write_workbook` and by the openpyxl writer as it was before the switch
(`tests.integration.openpyxl_monthly_writer`, kept as the reference), then read back with
openpyxl and compared: every cell of every sheet (value, type, number format, bold), the sheet
names and each sheet's layout (merged cells, frozen panes, filter, print titles, orientation,
charts, column widths, row heights) — and, with lxml (openpyxl's writer then), every part of
the zip archive byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zipfile import ZipFile
from zoneinfo import ZoneInfo

import openpyxl

from tests.integration.test_monthly_report_cells import workbook_cells

MONTHS = ("2026-10", "2026-04")
GENERATED = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London"))


def _hostile(report):
    """The report with user text that a spreadsheet would take for a formula, or XML cannot hold."""
    by_la = list(report.by_la)
    by_la[0] = replace(by_la[0], name='=HYPERLINK("http://x","y") [a]:*?/\\ é & <b>')
    lines = list(report.case_lines)
    lines[0] = replace(lines[0], outcome="@SUM(1)", decision_type="-2", status="\tstatus\x07", family_decision="")
    lines[1] = replace(lines[1], certificate_type="#N/A", outcome=" padded ", service="a\nb \U0001f600 \u00a3 \u2013")
    late = list(report.late_meetings)
    if late:
        late[0] = replace(late[0], reason="+44 call\r\nback ' \" > done")
    clocks = list(report.clock_lines)
    clocks[0] = replace(clocks[0], owner="=1+1")
    return replace(
        report, by_la=tuple(by_la), case_lines=tuple(lines), late_meetings=tuple(late), clock_lines=tuple(clocks)
    )


def _values(path: Path) -> dict[str, list[tuple]]:
    """Every row of every sheet as values (trailing empty rows left out)."""
    wb = openpyxl.load_workbook(path)
    sheets = {}
    for ws in wb:
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        while rows and not any(v is not None for v in rows[-1]):
            rows.pop()
        sheets[ws.title] = [tuple(v for v in r) for r in rows]
    return sheets


def _chart_details(path: Path) -> dict[str, list]:
    wb = openpyxl.load_workbook(path)
    return {
        ws.title: [
            (
                type(c).__name__,
                [(s.val.numRef.f, s.cat.strRef.f if s.cat and s.cat.strRef else None) for s in c.series],
            )
            for c in ws._charts
        ]
        for ws in wb
    }


def _parts(path: Path) -> dict[str, bytes]:
    with ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_new_writer_gives_every_cell_the_old_one_gave(drs_env, tmp_path):
    from bench.generate import generate_cases
    from reports.monthly import build_report, for_la
    from reports.monthly.report import each_la
    from reports.monthly.workbook import write_workbook
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.reporting.load import load_report_input
    from tests.integration.openpyxl_monthly_writer.workbook import write_workbook as old_write_workbook

    generate_cases(drs_env.db_url, 1500, seed=7, n_las=5)
    calendar = working_calendar()
    compared = 0
    for month in MONTHS:
        with unit_of_work() as db:
            report = _hostile(build_report(load_report_input(db, month), calendar))
        reports = {"ALL": report, **{s.code: for_la(report, s.code) for s in report.by_la}}
        assert list(each_la(report)) == list(reports.values())[1:]  # the LAs' reports split in one pass
        for code, one in reports.items():
            old, new = tmp_path / f"old-{month}-{code}.xlsx", tmp_path / f"new-{month}-{code}.xlsx"
            old_write_workbook(one, GENERATED, old)
            write_workbook(one, GENERATED, new)
            assert _values(new) == _values(old), (month, code)
            want, got = workbook_cells(old), workbook_cells(new)
            assert got["sheets"] == want["sheets"]
            for sheet in want["sheets"]:
                assert got["content"][sheet] == want["content"][sheet], (month, code, sheet)
            assert _chart_details(new) == _chart_details(old), (month, code)
            if openpyxl.LXML:  # the old writer's bytes are lxml's (a pure-Python openpyxl writes other bytes)
                old_parts, new_parts = _parts(old), _parts(new)
                assert sorted(new_parts) == sorted(old_parts)
                for name, content in old_parts.items():
                    assert new_parts[name] == content, (month, code, name)
            compared += sum(len(c["cells"]) for c in want["content"].values())
    assert compared > 5000  # a sample worth the name: case lines, clocks, late meetings

"""Write a month's workbooks: the full one (every LA) and one per LA, from ONE build of the figures.

Files: `$DRS_HOME/reports/monthly/drs-monthly-YYYY-MM.xlsx` (every LA) and
`drs-monthly-YYYY-MM-<ONS code>.xlsx` (one LA each); `out` replaces the folder. Re-running a
month rewrites them with the same figures (only "generated" on the cover differs). Each is
streamed to a temporary file beside it and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.monthly.report import MonthlyReport, build_report, each_la, headline_kpis
from reports.monthly.workbook import write_workbook
from tasks.deadlines.calendar_source import working_calendar
from tasks.operations import progress
from tasks.reporting.load import load_month
from tasks.settings import get_settings
from tasks.timekeeping import local_tz


@dataclass(frozen=True)
class Workbooks:
    """What `write_monthly_workbooks` wrote: the paths, the periods and the headline KPIs."""

    month: str
    month_from: str
    month_to: str
    ytd_from: str
    workbook: str
    la_workbooks: dict[str, str] = field(default_factory=dict)
    kpis: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "period": {
                "month": {"from": self.month_from, "to": self.month_to},
                "year_to_date": {"from": self.ytd_from, "to": self.month_to},
            },
            "workbook": self.workbook,
            "la_workbooks": dict(self.la_workbooks),
            "kpis": [dict(k) for k in self.kpis],
        }


def reports_folder(out: str | os.PathLike | None = None) -> Path:
    return Path(out) if out else get_settings().reports_dir / "monthly"


def _write(path: Path, report: MonthlyReport, generated: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write_workbook(report, generated, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # the sheets are streamed into it: no half-written file left behind
        raise
    tmp.replace(path)


def write_monthly_workbooks(month: str, now: datetime, out: str | None = None) -> Workbooks:
    """Build `month` once and write the full and per-LA workbooks."""
    report = build_report(load_month(month), working_calendar())
    generated = now.astimezone(local_tz())
    folder = reports_folder(out)
    full = folder / f"drs-monthly-{month}.xlsx"
    _write(full, report, generated)
    la_paths: dict[str, str] = {}
    for one in progress.counted(each_la(report), total=len(report.by_la)):
        code = one.scope.code
        path = folder / f"drs-monthly-{month}-{code}.xlsx"
        _write(path, one, generated)
        la_paths[code] = str(path)
    return Workbooks(
        month=month,
        month_from=report.month_start.isoformat(),
        month_to=report.month_end.isoformat(),
        ytd_from=report.ytd_start.isoformat(),
        workbook=str(full),
        la_workbooks=la_paths,
        kpis=headline_kpis(report),
    )

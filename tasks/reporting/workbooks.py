"""Write a month's workbooks: the full one (every LA) and one per LA, from ONE build of the figures.

Files: `$DRS_HOME/reports/monthly/drs-monthly-YYYY-MM.xlsx` (every LA) and
`drs-monthly-YYYY-MM-<ONS code>.xlsx` (one LA each); `out` replaces the folder. Each is
streamed to a temporary file beside it and renamed into place, so a reader never sees half a file.

Re-running a month whose input has not changed (the same rows, holidays and code: its
`fingerprint`, kept in `drs-monthly-YYYY-MM.json` beside the workbooks) writes nothing and
returns the same summary: the files are the ones the first run wrote. A month whose rows changed
(a late event, a clock met, a status) is built and written again, every workbook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.monthly.report import MonthlyReport, build_report, each_la, headline_kpis
from reports.monthly.rows import Periods
from tasks.deadlines.calendar_source import working_calendar
from tasks.operations import progress
from tasks.reporting import fingerprint
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
    from reports.monthly.workbook import write_workbook  # openpyxl: imported only when a month is written

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write_workbook(report, generated, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # the sheets are streamed into it: no half-written file left behind
        raise
    tmp.replace(path)


def write_monthly_workbooks(month: str, now: datetime, out: str | None = None) -> Workbooks:
    """Build `month` once and write the full and per-LA workbooks (nothing when unchanged)."""
    data = load_month(month)
    calendar = working_calendar()
    folder = reports_folder(out)
    full = folder / f"drs-monthly-{month}.xlsx"
    la_paths = {la.code: folder / f"drs-monthly-{month}-{la.code}.xlsx" for la in data.las}
    key = fingerprint.fingerprint(data, calendar)
    kpis = fingerprint.unchanged(folder, month, key, [full, *la_paths.values()])
    if kpis is None:
        fingerprint.forget(folder, month)
        report = build_report(data, calendar)
        del data
        _write_all(report, now, full, la_paths)
        kpis = headline_kpis(report)
        fingerprint.save(folder, month, key, [full, *la_paths.values()], kpis)
    p = Periods.of(month)
    return Workbooks(
        month=month,
        month_from=p.month_start.isoformat(),
        month_to=p.month_end.isoformat(),
        ytd_from=p.ytd_start.isoformat(),
        workbook=str(full),
        la_workbooks={code: str(path) for code, path in la_paths.items()},
        kpis=kpis,
    )


def _write_all(report: MonthlyReport, now: datetime, full: Path, la_paths: dict[str, Path]) -> None:
    generated = now.astimezone(local_tz())
    _write(full, report, generated)
    for one in progress.counted(each_la(report), total=len(report.by_la)):
        _write(la_paths[one.scope.code], one, generated)

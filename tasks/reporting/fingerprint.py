"""A month already reported from the same input is not written again (issue 14, the idle run).

`fingerprint(data, calendar)` is a SHA-256 of everything a month's workbooks are made from:

* the loaded rows (`ReportInput`: the month, every LA's code and name, and every row of every
  table — each figure, case line, clock line and late meeting is computed from them alone);
* the working calendar's holidays (working days late, certificates on time);
* the source of the code that turns them into workbooks (`reports.monthly`, the rule sets,
  the calendar, the text sanitiser) and the openpyxl version — a new release writes again.

`build_report` is pure and deterministic, so an equal fingerprint means equal workbooks, bar the
"generated" time on the cover. Any change to a row a figure reads (a late event, a clock met, a
status, a claim) changes the rows, so it changes the fingerprint. The fingerprint is stored
beside the workbooks in `drs-monthly-YYYY-MM.json` (the manifest, written after the last
workbook and removed before the first is rewritten) with the headline KPIs and each workbook's
size and modification time: `unchanged(...)` gives the summary back only when the fingerprint is
the same and every workbook is still there as it was written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import pickle
from pathlib import Path
from typing import Any

from models.domain.calendar import WorkingCalendar
from reports.monthly.rows import ROW_TABLES, ReportInput

FORMAT = 1  # of the manifest
BATCH = 5_000  # rows pickled at a time (memory)


def _code_digest() -> bytes:
    """The source of the modules a workbook's content depends on, and openpyxl's version."""
    from importlib.metadata import version

    import models.domain.calendar
    import models.domain.rules
    import models.domain.vocabulary
    import reports.monthly
    import reports.safe_cells

    digest = hashlib.sha256(version("openpyxl").encode())  # not imported: an unchanged month needs none of it
    package = Path(reports.monthly.__file__).parent
    modules = [models.domain.calendar, models.domain.rules, models.domain.vocabulary, reports.safe_cells]
    for path in [*sorted(package.glob("*.py")), *(Path(str(m.__file__)) for m in modules)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def fingerprint(data: ReportInput, calendar: WorkingCalendar) -> str:
    """The SHA-256 (hex) of `data`, `calendar`'s holidays and the report's code (module docstring)."""
    digest = hashlib.sha256(_code_digest())
    digest.update(repr((data.month, data.las, sorted(calendar.holidays))).encode())
    for table in ROW_TABLES:
        rows: tuple[Any, ...] = getattr(data, table)
        digest.update(f"{table}:{len(rows)}".encode())
        if not rows:
            continue
        get = operator.attrgetter(*(f.name for f in dataclasses.fields(rows[0])))
        for start in range(0, len(rows), BATCH):  # every value of every row, in order, a batch at a time
            blob = pickle.dumps(list(map(get, rows[start : start + BATCH])), protocol=5)
            digest.update(len(blob).to_bytes(8, "big") + blob)
    return digest.hexdigest()


def manifest_path(folder: Path, month: str) -> Path:
    return folder / f"drs-monthly-{month}.json"


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def save(folder: Path, month: str, key: str, files: list[Path], kpis: list[dict[str, Any]]) -> None:
    """Write the manifest of `month`'s workbooks `files` (after the last one is in place)."""
    doc = {
        "format": FORMAT,
        "month": month,
        "fingerprint": key,
        "files": {p.name: _stamp(p) for p in files},
        "kpis": kpis,
    }
    path = manifest_path(folder, month)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")  # not sorted: the KPIs keep their order
    tmp.replace(path)


def unchanged(folder: Path, month: str, key: str, files: list[Path]) -> list[dict[str, Any]] | None:
    """The headline KPIs the manifest holds when `month` was written from the same fingerprint
    `key` and every one of `files` is still there as written; else None (write them again)."""
    try:
        doc = json.loads(manifest_path(folder, month).read_text(encoding="utf-8"))
        same = doc["format"] == FORMAT and doc["month"] == month and doc["fingerprint"] == key
        if not same or set(doc["files"]) != {p.name for p in files}:
            return None
        if any(doc["files"][p.name] != _stamp(p) for p in files):
            return None
        return list(doc["kpis"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(folder: Path, month: str) -> None:
    """Remove the manifest before any workbook of `month` is rewritten (a run that stops half way
    leaves no manifest, so the next run writes every workbook)."""
    manifest_path(folder, month).unlink(missing_ok=True)

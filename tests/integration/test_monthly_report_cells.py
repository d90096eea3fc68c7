"""Every cell of every monthly workbook, recorded: the known November 2026 (the fixture of
`test_monthly_report`) run through `drs report monthly`, and each workbook's sheets, cell values,
number formats, bold, merged cells, frozen panes, filters, print titles and charts compared with
`monthly_report_cells.json` (recorded before the report was restructured and streamed, issue 13/14).

A deliberate change to the workbook re-records it: `RECORD_MONTHLY_CELLS=1 pytest <this file>`, and the
diff of the JSON file shows what changed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.integration.test_monthly_report import november  # noqa: F401  (fixture)

RECORDED = Path(__file__).with_name("monthly_report_cells.json")


def _cell(cell: Any) -> list:
    font = cell.font
    return [cell.coordinate, repr(cell.value), cell.data_type, cell.number_format, bool(font and font.b)]


def workbook_cells(path: str | Path) -> dict[str, Any]:
    """A workbook as plain data: per sheet its non-empty cells (coordinate, value, type, format, bold)
    and its layout. Values are `repr()`: 0.6666666666666666 and datetime(2026, 11, 1, 0, 0) exactly."""
    wb = openpyxl.load_workbook(path)
    sheets: dict[str, Any] = {}
    for ws in wb:
        sheets[ws.title] = {
            "cells": [_cell(c) for row in ws.iter_rows() for c in row if c.value is not None],
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "print_titles": ws.print_title_rows,
            "landscape": ws.page_setup.orientation,
            "charts": [type(c).__name__ for c in ws._charts],
            "widths": {k: d.width for k, d in sorted(ws.column_dimensions.items()) if d.customWidth},
            "heights": {str(k): d.height for k, d in sorted(ws.row_dimensions.items()) if d.height},
        }
    return {"sheets": list(wb.sheetnames), "content": sheets}


def report_cells(result: dict[str, Any]) -> dict[str, Any]:
    """Every workbook of a `drs report monthly --json` result, by file name."""
    paths = [result["workbook"], *result["la_workbooks"].values()]
    return {Path(p).name: workbook_cells(p) for p in sorted(paths)}


def _dump(recorded: dict[str, Any]) -> str:
    """JSON with one line per cell (a readable diff when a deliberate change re-records it)."""
    lines = ["{"]
    for i, (name, book) in enumerate(recorded.items()):
        lines.append(f'{json.dumps(name)}: {{"sheets": {json.dumps(book["sheets"], ensure_ascii=False)}, "content": {{')
        for j, (sheet, content) in enumerate(book["content"].items()):
            layout = {k: v for k, v in content.items() if k != "cells"}
            lines.append(
                f' {json.dumps(sheet, ensure_ascii=False)}: {json.dumps(layout, ensure_ascii=False)[:-1]}, "cells": ['
            )
            cells = [json.dumps(c, ensure_ascii=False) for c in content["cells"]]
            lines.append(",\n".join(cells))
            lines.append("]}" + ("," if j < len(book["content"]) - 1 else ""))
        lines.append("}}" + ("," if i < len(recorded) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def test_every_cell_of_every_workbook_is_as_recorded(november, drs, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    r = drs("report", "monthly", "--month", "2026-11", "--today", "2026-12-01", "--out", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert "skipped without a server: dashboard artifacts" in r.stderr  # the direct path says what it skipped
    got = report_cells(r.json())
    # case references depend on the fixture's insertion order only; the folder is the test's own
    if os.environ.get("RECORD_MONTHLY_CELLS"):
        RECORDED.write_text(_dump(got))
        pytest.skip(f"recorded {RECORDED.name}")
    want = json.loads(RECORDED.read_text())
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name]["sheets"] == want[name]["sheets"], name
        for sheet in want[name]["sheets"]:
            g, w = got[name]["content"][sheet], want[name]["content"][sheet]
            for key in w:
                if key == "cells":
                    gcells = {c[0]: c for c in g["cells"]}
                    wcells = {c[0]: c for c in w["cells"]}
                    diff = sorted(set(gcells) ^ set(wcells)) or [k for k in wcells if gcells[k] != wcells[k]]
                    assert not diff, (name, sheet, [(gcells.get(k), wcells.get(k)) for k in diff[:5]])
                else:
                    assert g[key] == w[key], (name, sheet, key)

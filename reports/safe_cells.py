"""The formula-injection guard: every workbook (and CSV) this project writes puts user text
through `safe_text` — one guard for the whole project.

Why: a spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` as a formula (and a
leading tab or carriage return can hide one), so a family's name typed as
`=HYPERLINK("http://evil","Click")` would become a live link in a finance officer's workbook
(CSV/formula injection, OWASP). openpyxl itself writes any string starting with `=` as a formula.

What it does: text starting with one of `= + - @ \\t \\r` gets a leading apostrophe, so it is
written — and stays, even when someone re-saves the workbook as CSV — as plain text:
`"=1+1"` becomes `"'=1+1"`, `"-2"` becomes `"'-2"`. The apostrophe is visible; that is
deliberate (it survives export, unlike Excel's hidden quote prefix). Characters XML cannot hold
(control characters other than tab, LF and CR) are dropped, so a hostile byte cannot make
openpyxl refuse the whole workbook. Numbers, dates and booleans are not text: write them as
values (they are never touched by this guard).

Use:
    from reports.safe_cells import safe_text, set_text
    ws.cell(row=r, column=c, value=safe_text(name))   # or
    set_text(ws.cell(row=r, column=c), name)          # also marks the cell as text
"""

from __future__ import annotations

import re
from typing import Any

#: first characters that make a spreadsheet read text as a formula
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def safe_text(value: Any) -> str | None:
    """`value` as text that no spreadsheet will evaluate; None stays None.

    Non-strings are turned into text with `str()` (use it for text columns only; write numbers
    and dates as themselves).
    """
    if value is None:
        return None
    text = _ILLEGAL_XML.sub("", value if isinstance(value, str) else str(value))
    return "'" + text if is_risky(text) else text


def set_text(cell: Any, value: Any) -> None:
    """Write `value` into an openpyxl cell as guarded text (data type string, never a formula)."""
    text = safe_text(value)
    cell.value = text
    if text is not None:
        cell.data_type = "s"

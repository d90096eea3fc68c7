"""The formula-injection guard, and that openpyxl really writes guarded text as text."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from reports.safe_cells import safe_text, set_text

HOSTILE = ['=HYPERLINK("http://evil.example","Click")', "+1", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_risky_text_gets_an_apostrophe(value):
    assert safe_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Pat Example", "pat@example.org", "1+1", "O'Neill", "", "a=b", "DRS-2026-00001"])
def test_ordinary_text_is_unchanged(value):
    assert safe_text(value) == value


def test_none_and_non_text():
    assert safe_text(None) is None
    assert safe_text(-5) == "'-5"
    assert safe_text(12) == "12"


def test_control_characters_xml_cannot_hold_are_dropped():
    assert safe_text("a\x00b\x07c\td\ne") == "abc\td\ne"


def test_every_hostile_value_reads_back_as_text_not_a_formula():
    wb = Workbook()
    ws = wb.active
    for row, value in enumerate(HOSTILE, start=1):
        set_text(ws.cell(row=row, column=1), value)
        ws.cell(row=row, column=2, value=safe_text(value))
    buffer = io.BytesIO()
    wb.save(buffer)
    back = load_workbook(io.BytesIO(buffer.getvalue())).active
    for row, value in enumerate(HOSTILE, start=1):
        for col in (1, 2):
            cell = back.cell(row=row, column=col)
            assert cell.data_type == "s", (value, cell.data_type)
            assert cell.value == "'" + value


def test_unguarded_openpyxl_would_write_a_formula():
    """Why the guard exists (and that this test can fail): openpyxl turns '=…' into a formula."""
    wb = Workbook()
    wb.active["A1"] = "=1+1"
    assert wb.active["A1"].data_type == "f"

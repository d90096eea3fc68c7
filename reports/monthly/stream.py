"""A worksheet part streamed as XML text: openpyxl's write-only worksheet with its rows formatted
directly, written straight into the workbook's zip archive (issue 14).

openpyxl's write-only mode makes a cell object and an lxml element for every value (≈ 40 µs a
cell under a profiler, two thirds of the monthly report's time) and streams each sheet to a
temporary file that is copied into the archive at save. Here a row is one string of the same
XML openpyxl writes — `<c r="B5" s="4" t="n"><v>46296</v></c>`, inline strings, `&#163;` for
non-ASCII — and each sheet goes straight into its zip member (no temporary file). Everything
else (sheet properties, views, columns, filter, merged cells, page setup, drawings, styles, the
workbook part, charts) is still openpyxl's own code and XML. `tests/integration/
test_monthly_writer_equivalence.py` compares the parts byte for byte with openpyxl's.

Styles are openpyxl's: a style is registered with the workbook (`style_id`) when a cell of it
is first written, in writing order, exactly as openpyxl's cell writer does; the id is asked once
per workbook and style (h19-report2). Rows reach the zip member in batches of 256. The parts
around the rows whose XML depends only on a small key (a sheet's top, the stylesheet, content
types) are serialised once per key: `reports.monthly.parts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, NamedTuple
from weakref import WeakKeyDictionary

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, TIME_TYPES, get_time_format
from openpyxl.styles import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.monthly.parts import StreamWriter

_LETTERS = [get_column_letter(i) for i in range(1, 703)]  # A … ZZ
_NUMBERS = (int, float, Decimal)


class Styled(NamedTuple):
    """A value to write with a style (the key of one of its sheet's styled cells)."""

    value: Any
    style: tuple


def _escaped(text: str) -> str:
    """Text content as lxml writes it (non-ASCII is escaped when the row is encoded)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _number(value: Any) -> str:
    """A number as openpyxl writes it (`openpyxl.compat.safe_string`)."""
    try:
        return "%.16g" % value  # noqa: UP031  (openpyxl's format, also for a Decimal)
    except (OverflowError, ValueError):
        return ""


def _text_cell(ref: str, style: str, value: str) -> str:
    """A string cell as openpyxl's cell writer gives it (inline string; formula and error codes
    as openpyxl types them — text through `reports.safe_cells` never starts with `=`)."""
    value = value[:32767]
    if ILLEGAL_CHARACTERS_RE.search(value):
        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    if not value:
        return f'<c r="{ref}"{style} t="inlineStr"></c>'
    if len(value) > 1 and value[0] == "=":
        return f'<c r="{ref}"{style}><f>{_escaped(value[1:])}</f><v></v></c>'
    if value in ERROR_CODES:
        return f'<c r="{ref}"{style} t="e"><v>{value}</v></c>'
    space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""  # value != value.strip()
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escaped(value)}</t></is></c>'


class StreamedWorksheet(WriteOnlyWorksheet):
    """A write-only worksheet whose rows are formatted as XML text (see the module).

    `out`: the binary stream to write the part to (the workbook's zip member), or None for a
    temporary file that `Workbook.save` copies, as openpyxl does. A value is written as openpyxl
    writes it: None skipped, text as an inline string, numbers, booleans, dates (a plain date
    takes openpyxl's default date format); a `Styled` value with its style's cell."""

    def __init__(self, parent: Any, title: str, out: IO[bytes] | None = None) -> None:
        super().__init__(parent, title)
        self.styles: dict[
            tuple, Any
        ] = {}  # style key → its cell (number format, font, fill, alignment), made when needed
        self.make_style: Callable[[Any, tuple], Any] = _format_cell  # style key → a new cell of that style
        self._date_formats: dict[tuple, str] = {}  # style key → the date format openpyxl gave its cell
        self._style_attr: dict[tuple, str] = {}  # style key → ' s="N"', registered at its first cell
        self._dated: set[tuple] = set()  # style keys whose format is a date format
        self._serials: dict[Any, str] = {}  # date → its Excel serial number, as written
        self._out = out
        self._fh: IO[bytes]
        self._writer: StreamWriter | None = None
        self._row = 0
        self._rows: list[bytes] = []  # rows formatted, not yet written

    def _get_writer(self) -> None:
        if self._writer is None:
            writer = StreamWriter(self, self._out)
            self._writer = writer
            writer.write_top()
            self._fh = writer.fh
            self._fh.write(b"<sheetData>")

    def close(self) -> None:
        if self.closed:
            self._already_saved()
        self._get_writer()
        self._rows.append(b"</sheetData>")
        self._fh.write(b"".join(self._rows))
        self._rows.clear()
        assert self._writer is not None
        self._writer.write_tail()
        self._writer.close()
        self._WriteOnlyWorksheet__saved = True

    def append(self, row: Iterable[Any]) -> None:
        self._get_writer()
        self._row += 1
        rows = self._rows
        rows.append(self.row_xml(row, self._row))
        if len(rows) >= 256:  # written to the zip member in batches (a write per row costs as much as its XML)
            self._fh.write(b"".join(rows))
            rows.clear()

    def row_xml(self, values: Iterable[Any], r: int) -> bytes:
        """Row `r` as openpyxl's `write_row` writes it (its height, if set, with it)."""
        if r in self.row_dimensions:
            attrs = {"r": f"{r}", **dict(self.row_dimensions[r])}
            parts = ["<row" + "".join(f' {k}="{v}"' for k, v in attrs.items()) + ">"]
        else:
            parts = [f'<row r="{r}">']
        row = f"{r}"
        for col, value in enumerate(values):
            if value is None:
                continue
            ref = (_LETTERS[col] if col < 702 else get_column_letter(col + 1)) + row
            if type(value) is Styled:
                parts.append(self._styled(ref, value.value, value.style))
            elif type(value) is str:
                parts.append(_text_cell(ref, "", value))
            else:
                parts.append(self._other(ref, value))
        parts.append("</row>")
        return "".join(parts).encode("ascii", "xmlcharrefreplace")

    def _other(self, ref: str, value: Any) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{value:d}</v></c>'
        if isinstance(value, _NUMBERS):
            return f'<c r="{ref}" t="n"><v>{_number(value)}</v></c>'
        if isinstance(value, str):
            return _text_cell(ref, "", value)
        if isinstance(value, TIME_TYPES):
            key = (get_time_format(type(value)), None, False, None)  # openpyxl's default date format
            return self._date(ref, value, key)
        raise ValueError(f"Cannot convert {value!r} to Excel")

    def _styled(self, ref: str, value: Any, key: tuple) -> str:
        t = type(value)
        if t is date or t is datetime:
            return self._date(ref, value, key)
        style = self._style_attr.get(key)
        if style is None:
            style = self._register(key)
        if value is None:
            return f'<c r="{ref}"{style} t="n"></c>'
        if t is int or t is float:
            return f'<c r="{ref}"{style} t="n"><v>{_number(value)}</v></c>'
        if t is str:
            return _text_cell(ref, style, value)
        if isinstance(value, TIME_TYPES):
            return self._date(ref, value, key)
        if isinstance(value, bool):
            return f'<c r="{ref}"{style} t="b"><v>{value:d}</v></c>'
        if isinstance(value, _NUMBERS):
            return f'<c r="{ref}"{style} t="n"><v>{_number(value)}</v></c>'
        if isinstance(value, str):
            return _text_cell(ref, style, value)
        raise ValueError(f"Cannot convert {value!r} to Excel")

    def _date(self, ref: str, value: Any, key: tuple) -> str:
        if key not in self._dated:
            if not is_date_format(key[0] or "General"):  # openpyxl gives the cell a date format (and keeps it)
                self._date_formats[key] = get_time_format(type(value))
                if key in self.styles:
                    self.styles[key].number_format = self._date_formats[key]
                self._style_attr.pop(key, None)
            self._dated.add(key)
        style = self._style_attr.get(key)
        if style is None:
            style = self._register(key)
        serial = self._serials.get(value)
        if serial is None:
            if getattr(value, "tzinfo", None) is not None:
                raise TypeError("Excel does not support timezones in datetimes.")
            serial = self._serials[value] = _number(to_excel(value, self.parent.epoch))
        return f'<c r="{ref}"{style} t="n"><v>{serial}</v></c>'

    def _register(self, key: tuple) -> str:
        """The style attribute of `key`'s cells: openpyxl's `style_id` (which registers the style
        with the workbook), asked once per workbook and style — the same style in another sheet
        has the same id (openpyxl's style list returns the index of an equal style)."""
        known = _STYLE_IDS.setdefault(self.parent, {})
        which = (key, self._date_formats.get(key))
        style = known.get(which)
        if style is None:
            cell = self.styles.get(key)
            if cell is None:
                cell = self.styles[key] = self.make_style(self, key)
                if which[1] is not None:
                    cell.number_format = which[1]
            style = known[which] = f' s="{cell.style_id}"' if cell.has_style else ""
        self._style_attr[key] = style
        return style


def _format_cell(ws: Any, key: tuple) -> Any:
    """A cell of style key `(number format, None, False, None)`: a plain date's default format."""
    cell = WriteOnlyCell(ws)
    if key[0]:
        cell.number_format = key[0]
    return cell


_STYLE_IDS: WeakKeyDictionary[Any, dict[tuple, str]] = WeakKeyDictionary()  # workbook → (key, date format) → style

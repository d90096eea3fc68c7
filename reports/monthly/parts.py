"""The package parts around the sheets, written once per distinct content (issue 14).

A month's report is 151 workbooks with the same structure: the same styles, the same extended
properties and theme, content types that differ only by the number of LA sheets. openpyxl builds
each of these parts as objects and serialises them for every workbook (≈ 19 ms a workbook of
fixed work at `--small`). Here `PartsWriter` is openpyxl's own `ExcelWriter.write_data`, step for
step, except that the parts whose XML is a function of a small key are serialised by openpyxl
the first time the key is seen and the same bytes reused afterwards:

* the extended properties (`docProps/app.xml`): constant;
* the stylesheet (`xl/styles.xml`): keyed by every table `write_stylesheet` reads;
* the content types (`[Content_Types].xml`): keyed by the archive's part names and the
  manifest's overrides (everything `Manifest._write` reads).

A workbook with anything else in it (custom document properties, VBA, a loaded theme) is written
by openpyxl's unchanged `write_data`. `tests/integration/test_monthly_writer_equivalence.py`
compares every part byte for byte with openpyxl's writer.
"""

from __future__ import annotations

from typing import IO, Any

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.extended import ExtendedProperties
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.workbook._writer import WorkbookWriter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.writer.theme import theme_xml
from openpyxl.xml.constants import (
    ARC_APP,
    ARC_CONTENT_TYPES,
    ARC_CORE,
    ARC_ROOT_RELS,
    ARC_STYLE,
    ARC_THEME,
    ARC_WORKBOOK,
    ARC_WORKBOOK_RELS,
    SHEET_MAIN_NS,
)
from openpyxl.xml.functions import tostring

_CACHE: dict[tuple, bytes] = {}
_LIMIT = 64  # distinct keys kept per process (a month has a handful)


def _cached(key: tuple, make: Any) -> bytes:
    xml = _CACHE.get(key)
    if xml is None:
        xml = make()
        if len(_CACHE) >= _LIMIT:
            _CACHE.clear()
        _CACHE[key] = xml
    return xml


def _style_key(wb: Any) -> tuple:
    """Everything `openpyxl.styles.stylesheet.write_stylesheet` reads from the workbook."""
    return (
        "styles",
        tuple(wb._fonts),
        tuple(wb._fills),
        tuple(wb._borders),
        tuple(wb._differential_styles.styles),
        tuple(wb._colors),
        tuple(wb._number_formats),
        tuple(tuple(s) for s in wb._cell_styles),
        tuple(wb._alignments),
        tuple(wb._protections),
        tuple((s.as_name(), s.as_xf()) for s in wb._named_styles),
        wb._table_styles,
    )


class PartsWriter(ExcelWriter):
    """openpyxl's `ExcelWriter` for a workbook whose sheets are already in the archive (streamed
    and closed): each sheet's drawing and relationships are taken here, the cacheable parts are
    reused (see the module)."""

    def write_worksheet(self, ws: Any) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        ws._rels = ws._writer._rels
        self.manifest.append(ws)

    def write_data(self) -> None:
        wb = self.workbook
        if wb.loaded_theme or len(wb.custom_doc_props) or wb.vba_archive:
            super().write_data()
            return
        archive = self._archive
        archive.writestr(ARC_APP, _cached(("app",), lambda: tostring(ExtendedProperties().to_tree())))
        archive.writestr(ARC_CORE, tostring(wb.properties.to_tree()))
        archive.writestr(ARC_THEME, theme_xml)
        self._write_worksheets()
        self._write_chartsheets()
        self._write_images()
        self._write_charts()
        self._write_external_links()
        archive.writestr(ARC_STYLE, _cached(_style_key(wb), lambda: tostring(write_stylesheet(wb))))
        writer = WorkbookWriter(wb)
        archive.writestr(ARC_ROOT_RELS, writer.write_root_rels())
        archive.writestr(ARC_WORKBOOK, writer.write())
        archive.writestr(ARC_WORKBOOK_RELS, writer.write_rels())
        self._write_manifest()

    def _write_manifest(self) -> None:
        """`Manifest._write` (no VBA here), its XML reused for the same parts."""
        manifest, archive, wb = self.manifest, self._archive, self.workbook
        manifest.append(wb)
        names = tuple(archive.namelist())
        overrides = tuple((o.PartName, o.ContentType) for o in manifest.Override)
        defaults = tuple((d.Extension, d.ContentType) for d in manifest.Default)

        def make() -> bytes:
            manifest._register_mimetypes(filenames=names)
            return tostring(manifest.to_tree())

        archive.writestr(ARC_CONTENT_TYPES, _cached(("types", names, overrides, defaults), make))


class _Collected:
    """Stands for a writer's XML stream: the elements sent, as the stream would write them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def send(self, element: Any) -> None:
        if element is not None:
            self.parts.append(tostring(element))


_TOPS: dict[tuple, bytes] = {}  # a sheet's top (properties, views, format, columns) by its layout


class StreamWriter(WorksheetWriter):
    """openpyxl's worksheet writer (it writes the parts around the rows), writing bytes to `out`:
    a binary stream (a zip member), or a temporary file as openpyxl does.

    The top of a sheet — everything before its rows — is openpyxl's XML for the sheet's layout,
    made once per distinct layout (column widths, frozen panes, fit to page: all that a
    `StreamedWorksheet` sets before its first row) and reused."""

    fh: IO[bytes]
    xf: Any

    def write_top(self) -> None:
        ws = self.ws
        setup = ws.sheet_properties.pageSetUpPr
        key = (
            tuple((k, d.width, d.customWidth) for k, d in ws.column_dimensions.items()),
            ws.freeze_panes,
            None if setup is None else (setup.fitToPage, setup.autoPageBreaks),
            ws.sheet_properties.tabColor,
            ws.sheet_state,
            ws._max_row,
            ws._max_col,
        )
        xml = _TOPS.get(key)
        if xml is None:
            stream, collected = self.xf, _Collected()
            self.xf = collected
            try:
                super().write_top()
            finally:
                self.xf = stream
            xml = b"".join(collected.parts)
            if len(_TOPS) >= 64:
                _TOPS.clear()
            _TOPS[key] = xml
        else:
            ws.sheet_format.outlineLevelCol = ws.column_dimensions.max_outline  # as `write_format` does
        self.fh.write(xml)

    def get_stream(self) -> Any:
        fh = open(self.out, "wb") if isinstance(self.out, str) else self.out  # noqa: SIM115
        self.fh = fh
        fh.write(f'<worksheet xmlns="{SHEET_MAIN_NS}">'.encode())
        try:
            while True:
                element = yield
                if element is not None:
                    fh.write(tostring(element))
        except GeneratorExit:
            pass
        fh.write(b"</worksheet>")
        fh.close()

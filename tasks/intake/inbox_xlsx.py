"""Reading an .xlsx inbox file into records (`tasks.intake.inbox.read_records`): the zip is
bounded before any XML is parsed, and the first sheet is streamed cell by cell within the limits."""

from __future__ import annotations

import zipfile

from tasks.intake.inbox_formats import (
    NOT_A_RECORD,
    Limits,
    Schema,
    UnreadableFile,
    beyond_header,
    blank,
    check_cells,
    check_header,
    mb,
    norm_key,
)


def read_xlsx(fh, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    _check_zip(fh, limits)
    fh.seek(0)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except UnreadableFile:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors, …) for a broken workbook
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        if not wb.worksheets:
            raise UnreadableFile("the workbook has no sheet")
        header: list[str] | None = None
        records: list[tuple[str, dict]] = []
        for n, row in _sheet_rows(wb, limits):
            values = {column: value for column, value in row if not blank(value)}
            if header is None:
                if n != 1 or not values:
                    raise UnreadableFile("the first sheet has no header row (the header must be row 1)")
                width = max(values)
                header = [norm_key(values.get(c)) for c in range(1, width + 1)]
                check_header(header, schema, limits)
                continue
            if not values:
                continue
            if max(values) > len(header):  # this record alone is rejected: a value with no column is never dropped
                extra = min(c for c in values if c > len(header))
                records.append((f"row {n}", {NOT_A_RECORD: beyond_header(extra, len(header))}))
                continue
            check_cells(values.values(), f"row {n}", limits)
            records.append((f"row {n}", schema.record({header[c - 1]: v for c, v in values.items() if header[c - 1]})))
        if header is None:
            raise UnreadableFile("the first sheet is empty (the header row must be row 1)")
        return records
    except UnreadableFile:
        raise
    except Exception as exc:  # broken XML met while streaming the sheet, …
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None
    finally:
        wb.close()


def _sheet_rows(wb, limits: Limits):
    """(row number, [(column, value)]) of the first sheet's stored cells, streamed by openpyxl's own
    sheet parser. Unlike `iter_rows` it neither trusts the sheet's declared dimension (which can
    hide rows) nor pads rows to the widest column (a cell in column XFD would cost 16,384 cells
    a row); rows, columns and the rows parsed are bounded by `limits`."""
    from openpyxl.worksheet._reader import WorkSheetParser

    sheet = wb.worksheets[0]
    parsed = 0
    with sheet._get_source() as src:
        parser = WorkSheetParser(
            src,
            sheet._shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for n, cells in parser.parse():
            parsed += 1
            if n > limits.max_records + 1 or parsed > limits.max_records + 1:
                raise UnreadableFile(
                    f"the first sheet has more than {limits.max_records:,} rows; split it into smaller files"
                )
            row = []
            for cell in cells:
                column = cell["column"]
                if column > limits.max_columns:
                    if blank(cell["value"]):
                        continue
                    raise UnreadableFile(f"row {n} has more than {limits.max_columns} columns")
                row.append((column, cell["value"]))
            yield n, row


def _check_zip(fh, limits: Limits) -> None:
    """Bound an .xlsx before any XML is parsed: member count, unpacked sizes (the zip reader
    stops at the sizes its directory gives), shared strings and the like, and no DTDs."""
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > limits.xlsx_max_members:
                raise UnreadableFile(f"the workbook has too many parts ({len(infos)})")
            total = sum(i.file_size for i in infos)
            if total > limits.xlsx_max_unpacked:
                raise UnreadableFile(
                    f"the workbook would unpack to {mb(total)} (the limit is {mb(limits.xlsx_max_unpacked)})"
                )
            for info in infos:
                lower = info.filename.lower()
                if not lower.startswith("xl/worksheets/") and info.file_size > limits.xlsx_max_member:
                    part = "shared strings" if "sharedstrings" in lower else "a part"
                    raise UnreadableFile(
                        f"the workbook's {part} would unpack to {mb(info.file_size)} "
                        f"(the limit is {mb(limits.xlsx_max_member)})"
                    )
                if lower.endswith((".xml", ".rels")) and info.file_size:
                    with zf.open(info) as member:
                        head = member.read(2048)
                    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                        raise UnreadableFile("the workbook contains XML declarations Excel never writes (a DTD)")
    except UnreadableFile:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        OSError,
    ) as exc:  # RuntimeError: an encrypted part
        raise UnreadableFile(f"the file is not a readable Excel workbook ({type(exc).__name__})") from None

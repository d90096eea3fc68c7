"""Reading JSON and CSV inbox files into records (`tasks.intake.inbox.read_records`): text
encodings, JSON without NaN or repeated keys and within its depth, CSV with a sniffed delimiter."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from tasks.intake.inbox_formats import (
    NOT_A_RECORD,
    Limits,
    Schema,
    UnreadableFile,
    beyond_header,
    check_cells,
    check_header,
    norm_key,
)


def _depth_ok(doc: Any, limit: int) -> bool:
    """Whether no list/object in `doc` is nested deeper than `limit` (iterative: no recursion)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def read_json(data: bytes, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    try:
        text = _decode(data, strict=True)
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text, so it cannot be JSON") from None
    containers = data.count(b"{") + data.count(b"[")  # an upper bound (brackets inside strings count too)
    if containers > limits.max_json_containers:
        raise UnreadableFile(f"the JSON has too many objects and lists (over {limits.max_json_containers:,})")
    try:
        doc = json.loads(text, parse_constant=_not_a_json_number, object_pairs_hook=_object_without_repeats)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"the JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise UnreadableFile(f"the JSON is nested too deeply (more than {limits.max_json_depth} levels)") from None
    if not _depth_ok(doc, limits.max_json_depth):
        raise UnreadableFile(f"the JSON is nested too deeply (more than {limits.max_json_depth} levels)")
    items = doc if isinstance(doc, list) else [doc]
    if len(items) > limits.max_records:
        raise UnreadableFile(f"the file has more than {limits.max_records:,} records; split it into smaller files")
    if not any(isinstance(item, dict) for item in items):
        raise UnreadableFile(f"record 1 is not a JSON object: expected one {schema.kind} object or a list of them")
    records: list[tuple[str, dict]] = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict):
            check_cells(item.values(), f"record {n}", limits)
            records.append((f"record {n}", schema.record(item)))
        else:  # rejected on its own: the records beside it are still imported
            records.append((f"record {n}", {NOT_A_RECORD: f"is not a JSON object (expected a {schema.kind} object)"}))
    return records


def _not_a_json_number(name: str):
    """NaN, Infinity and -Infinity are not JSON (Python's parser accepts them; a value would become
    text like 'nan')."""
    raise UnreadableFile(f"the JSON contains {name}, which is not a JSON value (use a number or text)")


def _object_without_repeats(pairs: list) -> dict:
    """A JSON object whose key repeats is ambiguous (which form_id, which email?): refused whole."""
    obj = dict(pairs)
    if len(obj) == len(pairs):  # the usual case: no key repeats
        return obj
    obj = {}
    for key, value in pairs:
        if key in obj:
            shown = (
                f" '{key}'" if len(key) <= 40 and all(c.isascii() and (c.isalnum() or c in "_-. ") for c in key) else ""
            )
            raise UnreadableFile(f"a JSON object has the key{shown} twice; which value is meant is unclear")
        obj[key] = value
    return obj


def _decode(data: bytes, *, strict: bool = False) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if strict:
            raise
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes, schema: Schema, limits: Limits) -> list[tuple[str, dict]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not readable text (UTF-16 that does not decode)") from None
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t", "|"), key=first_line.count)  # Excel in some locales writes ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise UnreadableFile("the file is empty")
        header = [norm_key(h) for h in header_row]
        check_header(header, schema, limits)
        records: list[tuple[str, dict]] = []
        n = 1
        for row in reader:
            n += 1  # the row as a spreadsheet shows it (a quoted value may span lines)
            if len(records) >= limits.max_records:
                raise UnreadableFile(f"the file has more than {limits.max_records:,} rows; split it into smaller files")
            if not any(cell.strip() for cell in row):
                continue
            beyond = [c for c, cell in enumerate(row[len(header) :], start=len(header) + 1) if cell.strip()]
            if beyond:  # this record alone is rejected: a value with no column is never dropped
                records.append((f"row {n}", {NOT_A_RECORD: beyond_header(beyond[0], len(header))}))
                continue
            check_cells(row, f"row {n}", limits)
            records.append((f"row {n}", schema.record({h: v for h, v in zip(header, row) if h})))
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV cannot be read: {str(exc)[:120]}") from None
    return records

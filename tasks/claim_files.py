"""Reading claim and remittance files: JSON (an object or a list), CSV (header row) or XLSX (first
sheet, header row) into plain dicts keyed by lower-case column name. No database, no Prefect.

`read_rows(path)` raises `ClaimFileError` (naming the file, never its contents) when the file
cannot be read at all; bad *records* are for the caller to report one by one.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

SUFFIXES = (".json", ".csv", ".xlsx")


class ClaimFileError(ValueError):
    """The file as a whole cannot be read (wrong type, not JSON, no header row)."""


def _norm_key(key: Any) -> str:
    return str(key or "").strip().lower().replace(" ", "_")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The records in `path` as dicts (keys lower-cased, surrounding spaces trimmed)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            records = data if isinstance(data, list) else [data]
            if not all(isinstance(r, dict) for r in records):
                raise ClaimFileError(f"{path.name}: expected a JSON object or a list of objects")
            return [{_norm_key(k): v for k, v in r.items()} for r in records]
        if suffix == ".csv":
            reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
            if not reader.fieldnames:
                raise ClaimFileError(f"{path.name}: no header row")
            return [{_norm_key(k): v for k, v in row.items() if k is not None} for row in reader]
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            try:
                rows = wb.worksheets[0].iter_rows(values_only=True)
                header = next(rows, None)
                if not header:
                    raise ClaimFileError(f"{path.name}: no header row")
                keys = [_norm_key(h) for h in header]
                records = []
                for values in rows:
                    if values is None or all(v is None or str(v).strip() == "" for v in values):
                        continue
                    records.append({k: v for k, v in zip(keys, values) if k})
                return records
            finally:
                wb.close()
    except ClaimFileError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaimFileError(f"{path.name}: cannot read the file ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise ClaimFileError(f"{path.name}: not valid JSON (line {exc.lineno})") from None
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ClaimFileError(f"{path.name}: not a readable workbook ({type(exc).__name__})") from None
    raise ClaimFileError(f"{path.name}: unsupported file type (use {', '.join(SUFFIXES)})")


def text(value: Any) -> str | None:
    """Trimmed text, or None when blank."""
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def as_date(value: Any) -> date:
    """A date from ISO text (YYYY-MM-DD), UK text (DD/MM/YYYY) or an XLSX date cell. Raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        raise ValueError("is missing")
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        pass
    try:  # UK spreadsheets and finance systems write 20/11/2026 (day first, never month first)
        return datetime.strptime(raw.split()[0], "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)") from None


def as_miles(value: Any) -> Decimal | None:
    """Miles to two decimal places (half up), or None when blank. Raises ValueError.

    Two places, not one: mileage is miles × rate, and 12.25 miles at 45p is £5.51, not the
    £5.54 that 12.3 miles would give."""
    raw = text(value)
    if raw is None:
        return None
    try:
        miles = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number of miles") from None
    if not miles.is_finite() or miles < 0 or miles >= 10_000_000:
        raise ValueError(f"{raw!r} is not a number of miles")
    return miles.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


def as_bool(value: Any) -> bool:
    """yes/no (also true/false, 1/0); blank is no. Raises ValueError."""
    if isinstance(value, bool):
        return value
    raw = (text(value) or "").lower()
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise ValueError(f"{raw!r} is not yes or no")

"""Reading claim and remittance files: JSON (an object or a list), CSV (header row) or XLSX (first
sheet, header row) into plain dicts keyed by lower-case column name. No database, no Prefect.

`read_rows(path)` raises `ClaimFileError` (naming the file, never its contents) when the file
cannot be read at all; bad *records* are for the caller to report one by one.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from models.domain.dates import require_date
from models.errors import InvalidInput
from tasks.intake.inbox import SUFFIXES  # noqa: F401 — re-exported


class ClaimFileError(InvalidInput):
    """The file as a whole cannot be read (wrong type, not JSON, no header row)."""


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The records in `path` as dicts (keys lower-cased, spaces as `_`), read by the one inbox
    reader (`tasks.intake.inbox`: encodings, BOM, delimiter sniffing, size limits)."""
    from tasks.intake.inbox import CLAIMS, UnreadableFile, read_records

    path = Path(path)
    try:
        return [fields for _, fields in read_records(path, path.name, schema=CLAIMS, follow=True).records]
    except UnreadableFile as exc:
        raise ClaimFileError(f"{path.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 — whatever a parser raised: this file cannot be read
        raise ClaimFileError(f"{path.name}: cannot be read ({type(exc).__name__})") from None


def text(value: Any) -> str | None:
    """Trimmed text, or None when blank."""
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def as_date(value: Any) -> date:
    """A date from ISO text (YYYY-MM-DD), UK text (DD/MM/YYYY) or an XLSX date cell (THE date reader,
    models/domain/dates.py). Raises ValueError ("is missing", "… is not a date")."""
    return require_date(value)


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

"""The local-authority register file (CONTRACT §LA, `drs la import`): decoding it, and reading
and checking each row into an `LaRow` — all rows or none; a bad row raises `RegistryError`
naming its line and field. Nothing here touches the database (`tasks/cases/registry.py` does)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import overload

from models.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")

MAX_FILE_BYTES = 2_000_000  # England has about 150 LAs: a register is a few kilobytes
MAX_ROWS = 1_000
#: every column the register knows; any other is refused (a misspelt limit must not be ignored)
COLUMNS = (
    "code",
    "name",
    "aliases",
    "sen_team_email",
    "finance_email",
    "contract_email",
    "mileage_rate_pence",
    "receipt_threshold_pounds",
    "claim_window_days",
    "certificate_needs_approval",
    "max_miles",
    "max_item_pounds",
    "max_meeting_pounds",
    "remittance_days",
)


class RegistryError(InvalidInput):
    """Bad register data; the message names the line and the field (nothing is written)."""


@dataclass(frozen=True)
class LaRow:
    code: str
    name: str
    aliases: list[str]
    sen_team_email: str | None
    finance_email: str | None
    mileage_rate_pence: int
    receipt_threshold_pence: int
    claim_window_days: int
    contract_email: str | None = None
    certificate_needs_approval: bool | None = None
    # sanity limits (None: the built-in defaults of models.domain.expenses apply)
    max_miles: Decimal | None = None
    max_item_pence: int | None = None
    max_meeting_pence: int | None = None
    remittance_days: int | None = None


def looks_like_email(value: str | None) -> bool:
    """The one email check (models.domain.fields: email-validator, syntax only, no network)."""
    from models.domain.fields import is_email

    if not value:
        return False
    return is_email(value.strip())


@overload
def _int(row: dict, key: str, default: int, line: int, low: int, high: int) -> int: ...
@overload
def _int(row: dict, key: str, default: None, line: int, low: int, high: int) -> int | None: ...
def _int(row: dict, key: str, default: int | None, line: int, low: int, high: int) -> int | None:
    raw = (row.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RegistryError(f"line {line}: {key} {raw[:40]!r} is not a whole number") from None
    if not low <= value <= high:
        raise RegistryError(f"line {line}: {key} {value} is outside {low}-{high}")
    return value


def _decimal(row: dict, key: str, line: int, what: str, low: Decimal, high: Decimal) -> Decimal | None:
    raw = (row.get(key) or "").strip().replace("£", "").replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RegistryError(f"line {line}: {key} {raw[:40]!r} is not {what}") from None
    if not value.is_finite() or not low <= value <= high:
        raise RegistryError(f"line {line}: {key} {raw[:40]!r} is outside {low}-{high}")
    return value


@overload
def _pounds_to_pence(row: dict, key: str, default_pence: int, line: int, high_pounds: int) -> int: ...
@overload
def _pounds_to_pence(row: dict, key: str, default_pence: None, line: int, high_pounds: int) -> int | None: ...
def _pounds_to_pence(row: dict, key: str, default_pence: int | None, line: int, high_pounds: int) -> int | None:
    value = _decimal(row, key, line, "an amount in pounds", Decimal(0), Decimal(high_pounds))
    if value is None:
        return default_pence
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _yes_no(row: dict, key: str, line: int) -> bool | None:
    raw = (row.get(key) or "").strip().lower()
    if not raw:
        return None
    if raw in ("yes", "y", "true", "1"):
        return True
    if raw in ("no", "n", "false", "0"):
        return False
    raise RegistryError(f"line {line}: {key} {raw[:40]!r} is not yes or no")


def _text(row: dict, key: str, line: int, limit: int) -> str:
    value = (row.get(key) or "").strip()
    if len(value) > limit:
        raise RegistryError(f"line {line}: {key} is longer than {limit} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise RegistryError(f"line {line}: {key} holds a control character")
    return value


def decode_register(data: bytes) -> str:
    """The register file's text: UTF-8 (with or without BOM), else Windows-1252 (Excel's "CSV").
    Raises `RegistryError` for a file too big or in neither encoding."""
    if len(data) > MAX_FILE_BYTES:
        raise RegistryError(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB: not a register")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegistryError("the file is neither UTF-8 nor Windows-1252 text")


def parse_la_csv(text: str) -> list[LaRow]:
    """Rows of the LA register CSV; `RegistryError` names the first bad line (nothing is written)."""
    return [row for _, row in parse_register(text)]


def parse_register(text: str) -> list[tuple[int, LaRow]]:
    """(line, row) of each LA in the register CSV text; `RegistryError` names the first bad line.

    Column names are matched without regard to case or surrounding spaces; an unknown column,
    a repeated code, or a name/alias used by two rows is refused."""
    if "\x00" in text:
        raise RegistryError("the file holds NUL characters: not a CSV text file")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)  # strict: a broken quote is an error
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise RegistryError(f"line 1: not valid CSV ({exc})") from None
    header = [(h or "").strip().lower() for h in header]
    reader.fieldnames = header
    missing = {"code", "name"} - set(header)
    if missing:
        raise RegistryError(f"line 1: missing column(s): {', '.join(sorted(missing))}")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise RegistryError(
            f"line 1: unknown column(s): {', '.join(repr(h[:40]) for h in unknown[:5])} (known: {', '.join(COLUMNS)})"
        )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise RegistryError(f"line 1: column(s) given twice: {', '.join(repeated)}")
    rows: list[tuple[int, LaRow]] = []
    seen_codes: dict[str, int] = {}
    seen_keys: dict[str, tuple[int, str]] = {}
    while True:
        line = reader.line_num + 1  # where the next record starts (a quoted field may span lines)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RegistryError(f"line {line}: not valid CSV ({exc})") from None
        if len(rows) >= MAX_ROWS:
            raise RegistryError(f"line {line}: more than {MAX_ROWS} local authorities: not a register")
        if None in row:
            raise RegistryError(f"line {line}: more fields than the header has columns")
        parsed = _parse_row(row, line)
        if parsed.code in seen_codes:
            raise RegistryError(f"line {line}: code {parsed.code} is already on line {seen_codes[parsed.code]}")
        seen_codes[parsed.code] = line
        for key in la_keys(parsed):
            other = seen_keys.get(key)
            if other is not None and other[1] != parsed.code:
                raise RegistryError(f"line {line}: name or alias {key!r} is also used on line {other[0]}")
            seen_keys[key] = (line, parsed.code)
        rows.append((line, parsed))
    return rows


def _parse_row(row: dict, line: int) -> LaRow:
    code = _text(row, "code", line, 16).upper()
    name = _text(row, "name", line, 120)
    if not ONS_CODE.match(code):
        raise RegistryError(f"line {line}: code {code[:20]!r} is not an ONS code like E08000006")
    if not name:
        raise RegistryError(f"line {line}: name is empty")
    emails = {}
    for key in ("sen_team_email", "finance_email", "contract_email"):
        value = _text(row, key, line, 254) or None
        if value and not looks_like_email(value):
            raise RegistryError(f"line {line}: {key} {value[:60]!r} is not an email address")
        emails[key] = value
    aliases = [a.strip() for a in _text(row, "aliases", line, 2000).split(";") if a.strip()]
    if any(len(a) > 120 for a in aliases) or len(aliases) > 20:
        raise RegistryError(f"line {line}: aliases: at most 20, each at most 120 characters")
    return LaRow(
        code=code,
        name=name,
        aliases=aliases,
        mileage_rate_pence=_int(row, "mileage_rate_pence", 45, line, 0, 200),
        receipt_threshold_pence=_pounds_to_pence(row, "receipt_threshold_pounds", 1000, line, 10_000),
        claim_window_days=_int(row, "claim_window_days", 90, line, 1, 3650),
        certificate_needs_approval=_yes_no(row, "certificate_needs_approval", line),
        max_miles=_decimal(row, "max_miles", line, "a number of miles", Decimal(1), Decimal(10_000)),
        max_item_pence=_pounds_to_pence(row, "max_item_pounds", None, line, 100_000),
        max_meeting_pence=_pounds_to_pence(row, "max_meeting_pounds", None, line, 100_000),
        remittance_days=_int(row, "remittance_days", None, line, 1, 3650),
        **emails,
    )


def la_keys(row: LaRow) -> set[str]:
    """The keys intake matches an LA by: its name and aliases, normalised as `find_local_authority` does."""
    from tasks.cases.casework import _la_key

    return {k for k in (_la_key(row.name), *(_la_key(a) for a in row.aliases)) if k}

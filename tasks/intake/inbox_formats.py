"""What an inbox file's records must look like: the limits checked before parsing, the two
schemas (referrals and expense claims), and the checks every format shares (`tasks.intake.inbox`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.errors import InvalidInput


class UnreadableFile(InvalidInput):
    """The file cannot be read as records at all; the message says why in plain words."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_records: int = 20_000
    max_columns: int = 200
    max_cell_chars: int = 32_767  # Excel's own limit for a cell
    max_json_depth: int = 32
    max_json_containers: int = 500_000
    xlsx_max_unpacked: int = 64 * 1024 * 1024
    xlsx_max_member: int = 16 * 1024 * 1024  # any part but a worksheet (shared strings, styles, …)
    xlsx_max_members: int = 400


LIMITS = Limits()


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class Schema:
    kind: str  # "referral" | "claim": used in messages
    required: tuple[str, ...]
    record: Callable[[dict], dict]  # a JSON object or a header-keyed row -> the record's fields


def norm_key(key: Any) -> str:
    """A column name as the schemas know it: trimmed, lower case, spaces as `_`, no BOM."""
    return " ".join(str(key if key is not None else "").replace("\ufeff", "").split()).lower().replace(" ", "_")


#: `norm_key` of the text keys seen so far (a file repeats the same dozen column names on every record)
_NORMED: dict[str, str] = {}


def _normed(key: Any) -> str:
    """`norm_key(key)`, remembered for text keys (a few thousand at most)."""
    if type(key) is not str:
        return norm_key(key)
    found = _NORMED.get(key)
    if found is None:
        found = norm_key(key)
        if len(_NORMED) < 4096:
            _NORMED[key] = found
    return found


def _referral_record(raw: dict) -> dict:
    from models.domain.referrals import flatten

    return flatten({_normed(k): v for k, v in raw.items()})


def _claim_record(raw: dict) -> dict:
    return {key: v for key, v in ((_normed(k), v) for k, v in raw.items()) if key}


REFERRALS = Schema("referral", ("form_id",), _referral_record)
CLAIMS = Schema("claim", ("claim_id",), _claim_record)
#: key of a placeholder record standing for a JSON list element that is not an object
NOT_A_RECORD = "__not_a_record__"


def check_cells(values, locator: str, limits: Limits) -> None:
    for value in values:
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise UnreadableFile(f"{locator} has a value longer than {limits.max_cell_chars:,} characters")
        if isinstance(value, dict):
            check_cells(value.values(), locator, limits)  # depth already bounded


def check_header(header: list[str], schema: Schema, limits: Limits) -> None:
    if len([h for h in header if h]) > limits.max_columns:
        raise UnreadableFile(f"the header row has more than {limits.max_columns} columns")
    missing = [c for c in schema.required if c not in header]
    if missing:
        hint = "" if any(h and h in _known(schema) for h in header) else " (is the first row the header row?)"
        raise UnreadableFile(f"the header row has no {', '.join(missing)} column{hint}")


def _known(schema: Schema) -> set[str]:
    if schema is REFERRALS:
        from models.domain.referrals import FIELDS

        return set(FIELDS)
    return {
        "claim_id",
        "case_ref",
        "session_date",
        "claimant_name",
        "claimant_email",
        "category",
        "miles",
        "amount",
        "receipt",
        "description",
        "paid_on",
    }


def beyond_header(column: int, width: int) -> str:
    return (
        f"has a value in column {column}, beyond the header row's {width} columns "
        "(a separator inside a value that is not quoted?)"
    )


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())

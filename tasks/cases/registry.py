"""The local-authority register and mediators (docs/formats.md "Local-authority register", `drs la import`, `drs mediator add`)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import LaPolicy, LocalAuthority, Mediator
from models.domain.vocabulary import CLAIM_CATEGORIES
from models.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
POLICY_START = date(2014, 9, 1)  # the SEND Regulations 2014 came into force


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

    return bool(value) and is_email(value.strip())


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


def import_register(data: bytes, now: datetime) -> tuple[int, int]:
    """Import a register file's bytes, all rows or none; returns (rows, new LAs).

    Raises `RegistryError` naming the line for any bad row, or a name/alias that another LA
    already on the register (and not in this file) uses. The previous register stays as it was.
    """
    from tasks.cases.casework import _la_key
    from tasks.db import unit_of_work

    lines = parse_register(decode_register(data))
    if not lines:
        raise RegistryError("line 2: no local authority in the file")
    rows = [row for _, row in lines]
    codes = {row.code for row in rows}
    with unit_of_work() as db:
        others = {}
        for la in db.scalars(select(LocalAuthority).where(LocalAuthority.code.not_in(codes))):
            for key in {_la_key(la.name), *(_la_key(a) for a in la.aliases or [])}:
                others[key] = la.code
        for line, row in lines:
            clash = next((k for k in sorted(la_keys(row)) if k in others), None)
            if clash:
                raise RegistryError(
                    f"line {line}: name or alias {clash!r} is already used by {others[clash]}, "
                    "which is on the register and not in this file"
                )
        created = 0
        for row in rows:
            created += upsert_local_authority(db, row, now)[1]
        db.commit()
    return len(rows), created


def upsert_local_authority(
    db: Session, row: LaRow, now: datetime, effective_from: date = POLICY_START
) -> tuple[LocalAuthority, bool]:
    """Insert or update an LA and its policy effective from `effective_from`. Returns (la, created)."""
    la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == row.code))
    created = la is None
    if la is None:
        la = LocalAuthority(code=row.code, created_at=now, certificate_needs_approval=False)
        db.add(la)
    la.name, la.aliases = row.name, row.aliases
    la.sen_team_email, la.finance_email = row.sen_team_email, row.finance_email
    if row.contract_email is not None:
        la.contract_email = row.contract_email
    if row.certificate_needs_approval is not None:
        la.certificate_needs_approval = row.certificate_needs_approval
    db.flush()
    policy = db.scalar(select(LaPolicy).where(LaPolicy.la_id == la.id, LaPolicy.effective_from == effective_from))
    if policy is None:
        policy = LaPolicy(la_id=la.id, effective_from=effective_from, categories=list(CLAIM_CATEGORIES))
        db.add(policy)
    policy.mileage_rate_pence = row.mileage_rate_pence
    policy.receipt_threshold_pence = row.receipt_threshold_pence
    policy.claim_window_days = row.claim_window_days
    policy.max_miles, policy.max_item_pence = row.max_miles, row.max_item_pence
    policy.max_meeting_pence, policy.remittance_days = row.max_meeting_pence, row.remittance_days
    return la, created


def add_mediator(db: Session, name: str, email: str, now: datetime) -> tuple[Mediator, bool]:
    """Register a mediator (idempotent by email). Returns (mediator, created)."""
    if not name.strip():
        raise RegistryError("mediator name is empty")
    from models.domain.fields import text_problem

    problem = text_problem(name)
    if problem:
        raise RegistryError(f"mediator name {problem}")
    if not looks_like_email(email):
        raise RegistryError(f"{email!r} is not an email address")
    email = email.strip().lower()
    mediator = db.scalar(select(Mediator).where(Mediator.email == email))
    if mediator is not None:
        mediator.name = name.strip()
        return mediator, False
    mediator = Mediator(name=name.strip(), email=email, active=True, created_at=now)
    db.add(mediator)
    return mediator, True

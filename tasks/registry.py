"""The local-authority register and mediators (CONTRACT §LA, `drs la import`, `drs mediator add`)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import LaPolicy, LocalAuthority, Mediator
from models.domain.vocabulary import CLAIM_CATEGORIES

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
POLICY_START = date(2014, 9, 1)  # the SEND Regulations 2014 came into force


class RegistryError(ValueError):
    """Bad register data; the message names the row and the field."""


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


def looks_like_email(value: str | None) -> bool:
    """The one email check (models.domain.fields: email-validator, syntax only, no network)."""
    from models.domain.fields import is_email

    return bool(value) and is_email(value.strip())


def _int(row: dict, key: str, default: int, line: int) -> int:
    raw = (row.get(key) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RegistryError(f"line {line}: {key} {raw!r} is not a whole number") from None


def _pounds_to_pence(row: dict, key: str, default_pence: int, line: int) -> int:
    raw = (row.get(key) or "").strip()
    if not raw:
        return default_pence
    try:
        return round(float(raw) * 100)
    except ValueError:
        raise RegistryError(f"line {line}: {key} {raw!r} is not an amount in pounds") from None


def _yes_no(row: dict, key: str, line: int) -> bool | None:
    raw = (row.get(key) or "").strip().lower()
    if not raw:
        return None
    if raw in ("yes", "y", "true", "1"):
        return True
    if raw in ("no", "n", "false", "0"):
        return False
    raise RegistryError(f"line {line}: {key} {raw!r} is not yes or no")


def parse_la_csv(text: str) -> list[LaRow]:
    """Rows of the LA register CSV; `RegistryError` names the first bad line (nothing is written)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name"} - set(reader.fieldnames or [])
    if missing:
        raise RegistryError(f"missing column(s): {', '.join(sorted(missing))}")
    rows = []
    for line, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip().upper()
        name = (row.get("name") or "").strip()
        if not ONS_CODE.match(code):
            raise RegistryError(f"line {line}: code {code!r} is not an ONS code like E08000006")
        if not name:
            raise RegistryError(f"line {line}: name is empty")
        from models.domain.fields import text_problem

        for key in ("name", "aliases"):
            problem = text_problem(row.get(key), limit=2_000 if key == "aliases" else 200)
            if problem:
                raise RegistryError(f"line {line}: {key} {problem}")
        emails = {}
        for key in ("sen_team_email", "finance_email", "contract_email"):
            value = (row.get(key) or "").strip() or None
            if value and not looks_like_email(value):
                raise RegistryError(f"line {line}: {key} {value!r} is not an email address")
            emails[key] = value
        rows.append(LaRow(
            code=code, name=name,
            aliases=[a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()],
            mileage_rate_pence=_int(row, "mileage_rate_pence", 45, line),
            receipt_threshold_pence=_pounds_to_pence(row, "receipt_threshold_pounds", 1000, line),
            claim_window_days=_int(row, "claim_window_days", 90, line),
            certificate_needs_approval=_yes_no(row, "certificate_needs_approval", line),
            **emails,
        ))
    return rows


def upsert_local_authority(db: Session, row: LaRow, now: datetime, effective_from: date = POLICY_START) -> tuple[LocalAuthority, bool]:
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

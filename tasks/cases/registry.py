"""The local-authority register and mediators (CONTRACT §LA, `drs la import`, `drs mediator add`).

Reading the register file is `tasks/cases/register_file.py` (re-exported here)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import LaPolicy, LocalAuthority, Mediator
from models.domain.vocabulary import CLAIM_CATEGORIES
from tasks.cases.register_file import (
    COLUMNS,
    EMAIL,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ONS_CODE,
    LaRow,
    RegistryError,
    decode_register,
    la_keys,
    looks_like_email,
    parse_la_csv,
    parse_register,
)

__all__ = [
    "COLUMNS",
    "EMAIL",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ONS_CODE",
    "POLICY_START",
    "LaRow",
    "RegistryError",
    "add_mediator",
    "decode_register",
    "import_register",
    "la_keys",
    "looks_like_email",
    "parse_la_csv",
    "parse_register",
    "upsert_local_authority",
]

POLICY_START = date(2014, 9, 1)  # the SEND Regulations 2014 came into force


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

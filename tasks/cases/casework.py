"""Cases and their clocks in the database: find an LA, number a case, record events, recompute clocks.

Every function takes the open unit of work (`db`) and commits nothing: the caller commits the
change together with the emails it causes (the outbox rule) — except `record_case_event`, the one
entry behind `drs case event` and the `admin-record-case-event` flow, which commits its own.

The pieces live beside this module and are re-exported here: `tasks/cases/store.py` (the error,
`get_case`, `audit`), `tasks/cases/clocks.py` (`case_facts`, `recompute_clocks`),
`tasks/cases/events.py` (`record_event` and its checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models.db import Case, LocalAuthority
from tasks.cases.clocks import case_facts, next_session_for, recompute_clocks
from tasks.cases.events import (
    check_event_date,
    check_note,
    infer_certificate_type,
    record_event,
    validate_event,
)
from tasks.cases.store import CaseworkError, audit, get_case

__all__ = [
    "CaseworkError",
    "EventRecorded",
    "audit",
    "case_facts",
    "check_event_date",
    "check_note",
    "find_local_authority",
    "get_case",
    "infer_certificate_type",
    "new_case",
    "next_case_ref",
    "next_session_for",
    "recompute_clocks",
    "record_case_event",
    "record_event",
    "validate_event",
]


_LA_NOISE = re.compile(r"\b(metropolitan|borough|city|county|district|council|of|the|royal|mbc|cc)\b", re.IGNORECASE)


def _la_key(text: str) -> str:
    return " ".join(_LA_NOISE.sub(" ", text.replace("&", " and ")).lower().split())


def find_local_authority(db: Session, text: str) -> LocalAuthority | None:
    """The LA whose ONS code, name or alias matches `text` (case-insensitive; 'Manchester City
    Council' → Manchester). None when nothing or more than one matches."""
    if not (text or "").strip():
        return None
    return la_finder(db.scalars(select(LocalAuthority)).all())(text)


def la_finder(las: Sequence[LocalAuthority]) -> Callable[[str], LocalAuthority | None]:
    """`find_local_authority` over a register loaded once (`las`), remembering each answer."""
    codes = {la.code.lower(): la for la in las}
    by_key: dict[str, list[LocalAuthority]] = {}
    for la in las:
        for key in {_la_key(la.name), *(_la_key(a) for a in la.aliases or [])}:
            by_key.setdefault(key, []).append(la)
    memo: dict[str, LocalAuthority | None] = {}

    def find(text: str) -> LocalAuthority | None:
        wanted = (text or "").strip()
        if wanted not in memo:
            exact = by_key.get(_la_key(wanted), []) if wanted else []
            first = codes.get(wanted.lower()) if wanted else None
            memo[wanted] = first or (exact[0] if len(exact) == 1 else None)
        return memo[wanted]

    return find


def first_free_case_number(db: Session, year: int) -> int:
    """The next free number of a `DRS-YYYY-NNNNN` reference for `year` (as an integer)."""
    prefix = f"DRS-{year}-"
    number_part = cast(func.substr(Case.ref, len(prefix) + 1), Integer)
    year_refs: ColumnElement[bool] = Case.ref.like(prefix + "%")
    if db.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores case, so its index cannot answer it; the prefix's range (BINARY
        # order: "-" then ".") can: one index range instead of reading every case (issue 14)
        year_refs = and_(Case.ref >= prefix, Case.ref < f"DRS-{year}.", year_refs)
    return (db.scalar(select(func.max(number_part)).where(year_refs)) or 0) + 1


def case_ref(year: int, number: int) -> str:
    return f"DRS-{year}-{number:05d}"


def next_case_ref(db: Session, year: int) -> str:
    """The next free reference `DRS-YYYY-NNNNN` for `year` (unique constraint guards races).

    The number is at least five digits and grows past 99,999 (`DRS-2026-100000`): the highest
    number is taken as an integer, not as a string, which would sort `99999` after `100000`.
    """
    return case_ref(year, first_free_case_number(db, year))


def new_case(
    db: Session,
    *,
    la: LocalAuthority,
    service: str,
    received_on: date,
    now: datetime,
    today: date,
    recorded_by: str,
    **fields: Any,
) -> Case:
    """Create a case with the next reference and its clocks (no events yet). Commits nothing.

    `fields` are `Case` columns (requester_*, child_*, decision_type, decision_letter_sent_on,
    sections, health_issues, social_care_issues, wants_mediation, consent_to_contact_la, notes, flags).
    """
    case = Case(
        ref=next_case_ref(db, received_on.year),
        service=service,
        status="new",
        la_id=la.id,
        received_on=received_on,
        created_at=now,
        updated_at=now,
        **fields,
    )
    case.local_authority = la
    db.add(case)
    db.flush()
    audit(db, recorded_by, "case:created", case.id, now, {"ref": case.ref})
    recompute_clocks(db, case, today, now)
    return case


@dataclass(frozen=True)
class EventRecorded:
    """An event recorded on a case: its reference, the event, its date and the case's new status."""

    case_ref: str
    event: str
    on: date
    status: str

    def as_dict(self) -> dict[str, str]:
        return {"case_ref": self.case_ref, "event": self.event, "on": self.on.isoformat(), "status": self.status}


def record_case_event(
    case_ref: str,
    event: str,
    on: date,
    *,
    today: date,
    now: datetime,
    recorded_by: str,
    note: str | None = None,
    health: bool = False,
    cert_type: str | None = None,
    items: Iterable[str] = (),
) -> EventRecorded:
    """Record `event` on case `case_ref` in a transaction of its own and commit (`CaseworkError`
    with the reason when it cannot be): `drs case event` and the `admin-record-case-event` flow."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        case = get_case(db, case_ref.strip(), for_update=True)
        record_event(
            db,
            case,
            event,
            on,
            now=now,
            today=today,
            recorded_by=recorded_by,
            note=note,
            health=health,
            cert_type=cert_type,
            items=tuple(items),
        )
        db.commit()
        return EventRecorded(case.ref, event, on, case.status)

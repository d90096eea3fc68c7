"""Helpers for the claims tests (no tests here): cases, meetings that took place, claim files."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.db import ExpenseClaim, LocalAuthority, MediationSession, SessionAttendee

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 9, 15, tzinfo=LONDON)
COLUMNS = [
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
]


def make_case(
    la_code: str,
    n: int,
    *,
    service: str = "mediation",
    meeting: date | None = date(2026, 11, 10),
    status: str = "held",
    supporter: tuple[str, str] | None = None,
) -> str:
    """A case for family `n` in LA `la_code` with (optionally) a mediation meeting; returns its ref."""
    from tasks.cases.casework import new_case
    from tasks.cases.registry import add_mediator
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == la_code))
        mediator, _ = add_mediator(db, "Mediator Test", "mediator@service.example.org", NOW)
        case = new_case(
            db,
            la=la,
            service=service,
            received_on=date(2026, 10, 1),
            now=NOW,
            today=TODAY,
            recorded_by="test",
            requester_role="parent",
            requester_name=f"Parent {n} Example",
            requester_email=f"parent{n}@families.example.org",
            child_name=f"Child {n} Secretname",
            decision_type=None if service == "drs" else "refuse_assessment",
            decision_letter_sent_on=None if service == "drs" else date(2026, 9, 20),
        )
        db.flush()
        if meeting is not None:
            start = datetime.combine(meeting, time(10), tzinfo=LONDON)
            session = MediationSession(
                case_id=case.id,
                mediator_id=mediator.id,
                uid=f"{case.ref}-{meeting}@test",
                sequence=0,
                start_at=start,
                end_at=start + timedelta(hours=2),
                venue="Test venue",
                status=status,
                booked_at=datetime(2026, 10, 20, tzinfo=UTC),
                updated_at=NOW,
            )
            session.attendees = [
                SessionAttendee(role="family", name=f"Parent {n} Example", email=f"parent{n}@families.example.org")
            ]
            if supporter:
                session.attendees.append(SessionAttendee(role="supporter", name=supporter[0], email=supporter[1]))
            db.add(session)
        db.commit()
        return case.ref


def claim(
    claim_id: str,
    case_ref: str,
    n: int,
    category: str = "mileage",
    *,
    miles="",
    amount="",
    receipt="no",
    session_date: str = "2026-11-10",
    name: str | None = None,
    email: str | None = None,
    description="",
) -> dict:
    return {
        "claim_id": claim_id,
        "case_ref": case_ref,
        "session_date": session_date,
        "claimant_name": name if name is not None else f"Parent {n} Example",
        "claimant_email": email if email is not None else f"parent{n}@families.example.org",
        "category": category,
        "miles": miles,
        "amount": amount,
        "receipt": receipt,
        "description": description,
    }


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    wb.save(path)
    return path


def _snapshot(row):
    from types import SimpleNamespace

    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs})


def claims_by_id() -> dict:
    """Every stored claim as a plain snapshot, by claim id."""
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return {c.claim_id: _snapshot(c) for c in db.scalars(select(ExpenseClaim))}


def outbox(kind: str | None = None):
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        stmt = select(OutboxEmail).order_by(OutboxEmail.id)
        if kind:
            stmt = stmt.where(OutboxEmail.kind == kind)
        return [_snapshot(e) for e in db.scalars(stmt)]

"""Helpers for the deadline-monitor and certificate tests (issue #4): cases with events, by date."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
FAMILY_EMAIL = "parent.one@families.example"
PERSONAL = (
    "Alex Example-Parent",
    "Sam Example-Child",
    FAMILY_EMAIL,
    "2015-03-02",
    "02/03/2015",
    "2 Mar 2015",
    "07700900123",
    "M5 4WT",
)


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def make_case(
    la_code: str,
    *,
    received_on: date,
    letter_sent_on: date | None,
    decision_type: str = "refuse_assessment",
    events: tuple[tuple[str, date, dict], ...] = (),
    sections: list[str] | None = None,
    wants_mediation: str = "undecided",
    service: str = "mediation",
    email: str | None = FAMILY_EMAIL,
    today: date | None = None,
) -> str:
    """Create a case with `events` ((name, on, kwargs) …) as of `today` (default: the last event); returns its ref."""
    from sqlalchemy import select

    from models.db import LocalAuthority
    from tasks.cases.casework import new_case, record_event
    from tasks.db import unit_of_work

    today = today or max([received_on] + [e[1] for e in events])
    with unit_of_work() as db:
        la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == la_code))
        case = new_case(
            db,
            la=la,
            service=service,
            received_on=received_on,
            now=at(received_on),
            today=today,
            recorded_by="test",
            requester_role="parent",
            requester_name=PERSONAL[0],
            requester_email=email,
            requester_phone=PERSONAL[6],
            requester_postcode=PERSONAL[7],
            child_name=PERSONAL[1],
            child_date_of_birth=date(2015, 3, 2),
            decision_type=decision_type,
            decision_letter_sent_on=letter_sent_on,
            sections=sections or [],
            health_issues=False,
            social_care_issues=False,
            wants_mediation=wants_mediation,
            consent_to_contact_la=True,
            notes=None,
            flags=[],
        )
        for name, on, kw in events:
            record_event(db, case, name, on, now=at(on), today=today, recorded_by="test", **kw)
        db.commit()
        return case.ref


def add_event(ref: str, name: str, on: date, today: date | None = None, **kw) -> None:
    from tasks.cases.casework import get_case, record_event
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        case = get_case(db, ref)
        record_event(db, case, name, on, now=at(today or on), today=today or on, recorded_by="test", **kw)
        db.commit()


def set_needs_approval(la_code: str, value: bool = True) -> None:
    from sqlalchemy import update

    from models.db import LocalAuthority
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        db.execute(
            update(LocalAuthority).where(LocalAuthority.code == la_code).values(certificate_needs_approval=value)
        )
        db.commit()


def outbox_rows() -> list:
    from sqlalchemy import select

    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return [
            (r.key, r.to_addr, r.subject, r.body_text) for r in db.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        ]


def clock_state(ref: str, name: str) -> tuple[str, date, date] | None:
    from sqlalchemy import select

    from models.db import Case, Clock
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        row = db.execute(
            select(Clock.state, Clock.due, Clock.target).join(Case).where(Case.ref == ref, Clock.name == name)
        ).first()
        return tuple(row) if row else None

"""A new meeting's rows: its mediator, its attendees (one invitation per address) and the session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Case, MediationSession, Mediator, SessionAttendee
from tasks.cases.registry import looks_like_email
from tasks.sessions.requests import Person, SessionError
from tasks.settings import get_settings


def active_mediator(db: Session, mediator_email: str) -> Mediator:
    mediator = (
        None
        if not looks_like_email(mediator_email)
        else db.scalar(
            select(Mediator).where(Mediator.email == (mediator_email or "").strip().lower()).with_for_update()
        )
    )
    if mediator is None or not mediator.active:
        raise SessionError(f"unknown mediator {mediator_email!r} (register one with drs mediator add)")
    return mediator


def attendees_for(
    case: Case,
    mediator: Mediator,
    named: Sequence[tuple[str, Person | None]],
    others: Sequence[Person],
    authority_to_settle: bool,
) -> list[SessionAttendee]:
    """The family (the case's requester), the mediator, then the named roles and the others: one
    invitation per address, the first role wins."""
    people: list[SessionAttendee] = [
        SessionAttendee(role="family", name=case.requester_name, email=(case.requester_email or "").lower() or None),
        SessionAttendee(role="mediator", name=mediator.name, email=mediator.email),
    ]
    for role, person in [*named, *(("other", p) for p in others)]:
        if person is not None:
            people.append(
                SessionAttendee(
                    role=role,
                    name=person.name,
                    email=person.email,
                    authority_to_settle=authority_to_settle and role == "la",
                )
            )
    seen: set[str] = set()
    unique: list[SessionAttendee] = []
    for p in people:
        if p.email and p.email in seen:
            continue
        seen.add(p.email or f"none-{len(unique)}")
        unique.append(p)
    return unique


def new_session(
    case: Case,
    mediator: Mediator,
    attendees: list[SessionAttendee],
    start: datetime,
    end: datetime,
    place: tuple[str | None, str | None, str | None],
    now: datetime,
    short_notice_agreed: bool,
) -> MediationSession:
    """The new scheduled session (version 0, a fresh calendar UID), with its mediator and
    attendees. `place`: (venue, online link, access notes)."""
    venue, online_url, access_notes = place
    domain = get_settings().mail_from.rsplit("@", 1)[-1] or "drs-flows.local"
    session = MediationSession(
        case_id=case.id,
        mediator_id=mediator.id,
        uid=f"{uuid.uuid4()}@{domain}",
        sequence=0,
        start_at=start,
        end_at=end,
        venue=venue,
        online_url=online_url,
        access_notes=(access_notes or "").strip() or None,
        status="scheduled",
        short_notice_agreed=short_notice_agreed,
        booked_at=now,
        updated_at=now,
    )
    session.mediator = mediator
    session.attendees = attendees
    return session

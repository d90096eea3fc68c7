"""Events on a case: checking one (its code, options, date and note) and recording it, audited,
with the case's clocks recomputed. Commits nothing: the caller commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from models.db import Case, CaseEvent
from models.domain.vocabulary import AGREEMENT_ITEMS, CERTIFICATE_TYPES, EVENTS
from tasks.cases.clocks import recompute_clocks
from tasks.cases.store import CaseworkError, audit


def validate_event(event: str, cert_type: str | None = None, items: Sequence[str] = ()) -> None:
    """Raise `CaseworkError` naming what is wrong with an event and its options."""
    if event not in EVENTS:
        raise CaseworkError(f"unknown event {event!r} (expected one of: {', '.join(EVENTS)})")
    if event == "certificate-issued" and cert_type not in CERTIFICATE_TYPES:
        raise CaseworkError(f"certificate-issued needs --type, one of: {', '.join(CERTIFICATE_TYPES)}")
    if event != "certificate-issued" and cert_type:
        raise CaseworkError("--type is only for certificate-issued")
    if event in ("agreement-reached", "agreement-step-done"):
        if not items:
            raise CaseworkError(f"{event} needs --item, one of: {', '.join(AGREEMENT_ITEMS)}")
        bad = [i for i in items if i not in AGREEMENT_ITEMS]
        if bad:
            raise CaseworkError(f"unknown agreement item {bad[0]!r} (expected one of: {', '.join(AGREEMENT_ITEMS)})")
    elif items:
        raise CaseworkError("--item is only for agreement-reached and agreement-step-done")


#: the event that makes each type of certificate due
_CERTIFICATE_TRIGGERS = {
    "mediation-declined": "declined",
    "withdrawn": "withdrawn",
    "la-cannot-arrange": "deemed",
    "mediation-concluded": "after-mediation",
}


def infer_certificate_type(case: Case, on: date) -> str:
    """The type of a certificate issued on `on` when none is given: the latest trigger event on or
    before that day; with none recorded, `declined` (the family needs a certificate to appeal
    without mediating — the commonest case)."""
    triggers = sorted(
        ((e.on, e.id or 0), _CERTIFICATE_TRIGGERS[e.event])
        for e in case.events
        if e.event in _CERTIFICATE_TRIGGERS and e.on <= on
    )
    return triggers[-1][1] if triggers else "declined"


def record_event(
    db: Session,
    case: Case,
    event: str,
    on: date,
    *,
    now: datetime,
    today: date,
    recorded_by: str,
    note: str | None = None,
    health: bool = False,
    cert_type: str | None = None,
    items: Iterable[str] = (),
    detail: dict | None = None,
) -> CaseEvent:
    """Append an event to `case`, audit it and recompute the case's clocks. Commits nothing."""
    items = tuple(items)
    if event == "certificate-issued" and not cert_type:
        cert_type = infer_certificate_type(case, on)
    validate_event(event, cert_type, items)
    check_event_date(case, on, today)
    note = check_note(note)
    if event == "agreement-step-done":
        agreed = {i for e in case.events if e.event == "agreement-reached" and e.on <= on for i in (e.items or ())}
        missing = [i for i in items if i not in agreed]
        if missing:
            raise CaseworkError(f"no agreement on {missing[0]!r} was reached on or before {on.isoformat()}")
    row = CaseEvent(
        case_id=case.id,
        event=event,
        on=on,
        note=note,
        health=health,
        cert_type=cert_type,
        items=list(items),
        detail=detail,
        recorded_at=now,
        recorded_by=recorded_by,
    )
    db.add(row)
    audit(db, recorded_by, f"event:{event}", case.id, now, {"on": on.isoformat()})
    recompute_clocks(db, case, today, now)
    return row


def check_event_date(case: Case, on: date, today: date) -> None:
    """`CaseworkError` when an event date cannot be: outside the sane window, in the future, before
    the case's decision letter or before the referral was received."""
    from models.domain.fields import date_problem

    problem = date_problem(on)
    if problem:
        raise CaseworkError(f"event date {on.isoformat()} {problem}")
    if on > today:
        raise CaseworkError(f"event date {on.isoformat()} is in the future")
    letter = case.decision_letter_sent_on
    if letter is not None and on < letter:
        raise CaseworkError(
            f"event date {on.isoformat()} is before the decision letter of {case.ref} ({letter.isoformat()})"
        )
    if case.received_on is not None and on < case.received_on:
        raise CaseworkError(
            f"event date {on.isoformat()} is before {case.ref} was received ({case.received_on.isoformat()})"
        )


def check_note(note: Any) -> str | None:
    """An event's note: text of at most NOTE_MAX characters, no NUL or control characters."""
    from models.domain.fields import NOTE_MAX, FieldError, clean_text

    try:
        return clean_text(note, "note", limit=NOTE_MAX, single_line=False)
    except FieldError as exc:
        raise CaseworkError(str(exc)) from None

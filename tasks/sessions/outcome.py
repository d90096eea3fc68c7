"""Record how a mediation meeting ended (`drs session outcome`): the session is `held`, the case
gets `mediation-concluded` (and `agreement-reached` with items), in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from models.domain.vocabulary import AGREEMENT_ITEMS, OUTCOMES
from tasks.cases.casework import CaseworkError, audit, get_case, record_event
from tasks.db import unit_of_work
from tasks.sessions.requests import SessionError, SessionResult
from tasks.sessions.slots import case_of, load_session, local_today, result_of
from tasks.timekeeping import local_tz


def record_outcome(
    session_id: int,
    *,
    result: str,
    on: date,
    now: datetime,
    items: Sequence[str] = (),
    actor: str = "cli:session-outcome",
) -> SessionResult:
    """Record how a meeting ended: the session is `held`; the case gets `mediation-concluded`
    on `on` (starting the after-mediation certificate clock) and, for an agreed or partial
    outcome with `items`, `agreement-reached` (the follow-up clocks). Raises `SessionError`."""
    if result not in OUTCOMES:
        raise SessionError(f"--result must be one of: {', '.join(OUTCOMES)}")
    items = tuple(items)
    bad = [i for i in items if i not in AGREEMENT_ITEMS]
    if bad:
        raise SessionError(f"unknown agreement item {bad[0]!r} (expected one of: {', '.join(AGREEMENT_ITEMS)})")
    if items and result == "not-agreed":
        raise SessionError("--item is only for an agreed or partial outcome")
    today = local_today(now)
    with unit_of_work() as db:
        session = load_session(db, session_id)
        if session.status == "held":
            raise SessionError(f"session {session_id} already has an outcome ({session.outcome})")
        if session.status != "scheduled":
            raise SessionError(f"session {session_id} is {session.status}")
        if on < session.start_at.astimezone(local_tz()).date():
            raise SessionError(f"--on {on.isoformat()} is before the meeting")
        case = get_case(db, case_of(db, session).ref, for_update=True)
        session.status, session.outcome, session.outcome_on, session.updated_at = "held", result, on, now
        db.flush()
        detail = {"session_id": session.id, "result": result}
        try:
            record_event(db, case, "mediation-concluded", on, now=now, today=today, recorded_by=actor, detail=detail)
            if items:
                record_event(
                    db,
                    case,
                    "agreement-reached",
                    on,
                    now=now,
                    today=today,
                    recorded_by=actor,
                    items=items,
                    detail=detail,
                )
        except CaseworkError as exc:
            raise SessionError(str(exc)) from None
        audit(db, actor, "session:outcome", case.id, now, detail)
        db.commit()
        return result_of(session, case)

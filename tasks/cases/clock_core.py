"""The pure core of every clock recompute: a case's facts from plain values, and the rows to store.

Two paths read a case from the database: `tasks.cases.casework.recompute_clocks` (one case,
through the ORM, on every event) and `tasks.deadlines.recompute.recompute_cases` (every open case,
a batch at a time with a handful of set-based queries). Both hand what they read to
`build_facts` and `planned_clocks`, so the facts, the stored columns and the status cannot drift
apart. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Any, Protocol

from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Clock, Event, NextSession, compute_clocks
from models.domain.status import case_status

#: the `clocks` columns a recompute writes (besides `case_id`, `name` and `computed_at`)
CLOCK_COLUMNS = ("due", "target", "state", "owner", "level", "started_on", "met_on", "source", "note")
_TEXT_LIMIT = 120  # `clocks.source` and `clocks.note` are String(120)


class CaseLike(Protocol):
    """The `cases` columns the engine reads (an ORM `Case` or a Core row)."""

    @property
    def service(self) -> str: ...

    @property
    def decision_type(self) -> str | None: ...

    @property
    def decision_letter_sent_on(self) -> date | None: ...

    @property
    def received_on(self) -> date: ...

    @property
    def sections(self) -> Sequence[str] | None: ...

    @property
    def health_issues(self) -> bool: ...

    @property
    def appeal_lodged(self) -> bool: ...


class EventLike(Protocol):
    """A `case_events` row (ORM or Core): `id` orders events recorded for the same day."""

    @property
    def id(self) -> int | None: ...

    @property
    def event(self) -> str: ...

    @property
    def on(self) -> date: ...

    @property
    def health(self) -> bool: ...

    @property
    def cert_type(self) -> str | None: ...

    @property
    def items(self) -> Sequence[str] | None: ...


class SessionLike(Protocol):
    """The case's next scheduled `mediation_sessions` row."""

    @property
    def start_at(self) -> datetime: ...

    @property
    def booked_at(self) -> datetime: ...

    @property
    def short_notice_agreed(self) -> bool: ...


def build_facts(
    case: CaseLike,
    events: Iterable[EventLike],
    session: SessionLike | None,
    acknowledged_at: datetime | None,
    la_informed_at: datetime | None,
    tz: tzinfo,
) -> CaseFacts:
    """What the clock engine needs to know about a case (`tz`: the service's local time zone).

    `acknowledged_at` is when the first acknowledgement was queued, `la_informed_at` when the
    latest mediation request to the LA was; events come in any order (sorted by date, then id)."""
    next_session = None
    if session is not None:
        next_session = NextSession(
            starts_on=session.start_at.astimezone(tz).date(),
            booked_on=session.booked_at.astimezone(tz).date(),
            short_notice_agreed=session.short_notice_agreed,
        )
    return CaseFacts(
        acknowledged_on=acknowledged_at.astimezone(tz).date() if acknowledged_at else None,
        la_informed_on=la_informed_at.astimezone(tz).date() if la_informed_at else None,
        service=case.service,
        decision_type=case.decision_type,
        letter_sent_on=case.decision_letter_sent_on,
        received_on=case.received_on,
        sections=tuple(case.sections or ()),
        health_issues=case.health_issues,
        events=tuple(
            Event(name=e.event, on=e.on, health=e.health, cert_type=e.cert_type, items=tuple(e.items or ()))
            for e in sorted(events, key=lambda e: (e.on, e.id or 0))
        ),
        next_session=next_session,
        appeal_lodged=case.appeal_lodged,
    )


def clock_values(clock: Clock) -> dict[str, Any]:
    """The stored columns of one computed clock (`CLOCK_COLUMNS`; texts cut to the column size)."""
    return {
        "due": clock.due,
        "target": clock.target,
        "state": clock.state,
        "owner": clock.owner,
        "level": clock.level,
        "started_on": clock.started_on,
        "met_on": clock.met_on,
        "source": clock.source[:_TEXT_LIMIT],
        "note": clock.note[:_TEXT_LIMIT],
    }


def planned_clocks(
    facts: CaseFacts,
    calendar: WorkingCalendar,
    today: date,
    overrides: Mapping[str, int] | None = None,
) -> tuple[dict[str, dict[str, Any]], str]:
    """(the clock rows to store by name, the case's status) for `facts` as of `today`."""
    computed = compute_clocks(facts, calendar, today, overrides=overrides)
    status = case_status((e.name for e in facts.events), session_scheduled=facts.next_session is not None)
    return {name: clock_values(clock) for name, clock in computed.items()}, status

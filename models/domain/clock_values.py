"""A case's clocks as values: the facts the engine reads (``CaseFacts``, ``Event``,
``NextSession``), the clocks it gives (``Clock``), and the small rules both sides share.

The engine is ``models.domain.clock_engine``; the public entry is ``models.domain.clocks``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from models.domain.calendar import WorkingCalendar

OPEN, MET, MISSED, NOT_APPLICABLE = "open", "met", "missed", "not_applicable"


# certificate trigger event -> (certificate variant, RuleSet period field, citation key, owner)
CERTIFICATE_CLOCK_RULES = {
    "mediation-declined": ("declined", "certificate_declined_wd", "certificate_declined", "adviser"),
    "withdrawn": ("withdrawn", "certificate_withdrawn_wd", "certificate_withdrawn", "adviser"),
    "la-cannot-arrange": ("deemed", "certificate_deemed_wd", "certificate_deemed", "adviser"),
    "mediation-concluded": (
        "after-mediation",
        "certificate_after_mediation_wd",
        "certificate_after_mediation",
        "mediator",
    ),
}


@dataclass(frozen=True)
class Event:
    """A case event as the engine sees it (names as in CONTRACT.md "Events")."""

    name: str
    on: date
    health: bool = False
    cert_type: str | None = None  # certificate-issued: declined|withdrawn|deemed|after-mediation
    items: tuple[str, ...] = ()  # agreement-reached: assess|issue-plan|amend-plan|reassess|...


@dataclass(frozen=True)
class NextSession:
    """The case's next scheduled mediation meeting (for ``notice_by``)."""

    starts_on: date
    booked_on: date
    short_notice_agreed: bool = False


@dataclass(frozen=True)
class CaseFacts:
    """What the engine needs to know about one case; dates are Europe/London local dates.

    ``acknowledged_on`` (optional) is when the acknowledgement reached the family; without it
    ``acknowledge_by`` is met by the first recorded event, since any contact acknowledges.
    ``la_informed_on`` (optional) is when the service itself sent the family's mediation request
    to the LA (intake does, with consent); it meets ``la_informed_by`` as the LA's own
    ``la-received-request`` does.
    """

    service: str  # "mediation" | "drs"
    decision_type: str | None
    letter_sent_on: date | None
    received_on: date
    sections: tuple[str, ...] = ()
    health_issues: bool = False
    events: tuple[Event, ...] = ()
    next_session: NextSession | None = None
    appeal_lodged: bool = False
    acknowledged_on: date | None = None
    la_informed_on: date | None = None


@dataclass(frozen=True)
class Clock:
    """One deadline of a case.

    ``due`` is the legal date; ``target`` the working day alerts aim at (``due`` itself when a
    working day, else the last working day before it; equal for working-day rules and for
    ``appeal_deadline``). ``level`` and ``source`` come from the rule set in force on
    ``started_on``, the trigger date.
    """

    name: str
    due: date
    target: date
    state: str  # open | met | missed | not_applicable
    owner: str  # family | adviser | la | icb | mediator
    level: str  # VERIFIED | SECONDARY | UNVERIFIED | SERVICE
    started_on: date
    source: str
    met_on: date | None = None
    note: str = ""
    late_wd: int | None = None  # working days after ``target`` it was met; 0 on time; None if not met


def certificate_needed(facts: CaseFacts) -> bool:
    """Return whether the family needs a mediation certificate before appealing.

    False for DRS (CFA s.57: no certificate), and for a ``plan_contents`` appeal only about
    the school or type of school in section I (CFA s.55; docs/rules.md §2). A mix of I
    with B or F still needs one; unknown sections are treated as needing one.
    """
    if facts.service != "mediation":
        return False
    if facts.decision_type == "plan_contents":
        sections = {s.strip().upper() for s in facts.sections if s.strip()}
        return sections != {"I"}
    return True


def clock_to_json(clock: Clock) -> dict[str, Any]:
    """Return the clock as CONTRACT.md shows it: ``due``, ``target`` (ISO dates), ``state``,
    ``owner``, ``level``, ``met_on`` (ISO date or None) and ``late_wd`` (int or None)."""
    return {
        "due": clock.due.isoformat(),
        "target": clock.target.isoformat(),
        "state": clock.state,
        "owner": clock.owner,
        "level": clock.level,
        "met_on": clock.met_on.isoformat() if clock.met_on else None,
        "late_wd": clock.late_wd,
    }


def late_working_days(target: date, met_on: date | None, calendar: WorkingCalendar) -> int | None:
    """Return how many working days after ``target`` a clock was met: 0 on or before it (a
    non-working day after ``target`` but on or before ``due`` counts 0 too, since ``target`` is
    the last working day on or before ``due``); None when ``met_on`` is None."""
    if met_on is None:
        return None
    return max(0, calendar.working_days_between(target, met_on))


def replace_state(clock: Clock, state: str) -> Clock:
    met = state == MET
    return dataclasses.replace(
        clock, state=state, met_on=clock.met_on if met else None, late_wd=clock.late_wd if met else None
    )

"""The clock engine: a case's statutory and service deadlines, computed from its facts.

``compute_clocks(facts, calendar, today)`` is pure: the same facts, holidays and ``today``
always give the same clocks, so it can be recomputed whenever a case changes or
:data:`~models.domain.rules.CURRENT_RULES_VERSION` moves. Every period, level and citation
comes from the :class:`~models.domain.rules.RuleSet` in force on each clock's trigger date;
nothing statutory is written here. Clock names, owners and levels follow
``docs/rules.md`` §2–§4 and CONTRACT.md ("Case").

States: ``met`` (the clock's event happened, on ``met_on``), ``missed`` (not met and
``today`` is after ``target``), ``open``, ``not_applicable`` (no certificate needed, mediation
ended early, or the case was closed before the clock fell due). ``contact_adviser_by``,
``mediation_by`` and ``notice_by`` are met only on time; the others are met by their event
whenever it happens, so ``met_on`` may be after ``due``: ``late_wd`` is how many working days
after ``target`` it was met (0 on time, None when not met). A ``notice_by`` booked late with the
family's agreement to shorter notice counts 0. ``appeal_deadline`` met by ``appeal_lodged`` has
no date recorded, so its ``met_on`` and ``late_wd`` stay None. Every rule, period and level is
summarised for readers in ``docs/rules.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from models.domain.calendar import WorkingCalendar
from models.domain.clock_engine import ClockEngine
from models.domain.clock_values import (
    MET,
    MISSED,
    NOT_APPLICABLE,
    OPEN,
    CaseFacts,
    Clock,
    Event,
    NextSession,
    certificate_needed,
    clock_to_json,
    late_working_days,
    replace_state,
)
from models.domain.rules import RULESETS, RuleSet

# The values and their rules live in ``clock_values`` and the engine in ``clock_engine``; this
# module is the one entry the rest of the code imports.
__all__ = [
    "MET",
    "MISSED",
    "NOT_APPLICABLE",
    "OPEN",
    "CaseFacts",
    "Clock",
    "Event",
    "NextSession",
    "certificate_needed",
    "clock_to_json",
    "compute_clocks",
    "late_working_days",
]


def compute_clocks(
    facts: CaseFacts,
    calendar: WorkingCalendar,
    today: date,
    rules: Sequence[RuleSet] = RULESETS,
    overrides: Mapping[str, int] | None = None,
) -> dict[str, Clock]:
    """Return the case's clocks by JSON name, as of ``today`` (a Europe/London date).

    DRS cases get only ``acknowledge_by`` and ``first_contact_by``. ``overrides`` are the
    local authority's service standards (see ``rules.with_overrides``). A ``closed`` event
    turns every clock not met and due after the closing date into ``not_applicable``.

    Raises ``ValueError`` for an unknown service or agreement item, a bad override, or a
    trigger date before any rule set was in force.
    """
    if facts.service not in ("mediation", "drs"):
        raise ValueError(f"unknown service {facts.service!r}")
    engine = ClockEngine(facts, calendar, today, rules, overrides)
    clocks = engine.service_clocks()
    if facts.service == "mediation":
        clocks.update(engine.statutory_clocks())
    closed = engine.latest("closed")
    if closed is not None:
        for name, clock in clocks.items():
            if clock.state in (OPEN, MISSED) and clock.due > closed.on:
                clocks[name] = replace_state(clock, NOT_APPLICABLE)
    return clocks

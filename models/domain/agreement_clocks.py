"""The clocks after a written agreement (reg 42): the LA's follow-up steps, and the ICB's notice of
a health-only agreement. Part of the clock engine (``models.domain.clock_engine``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from models.domain.clock_values import Clock

if TYPE_CHECKING:
    from models.domain.clock_engine import ClockEngine


def agreement_follow_ups(engine: ClockEngine) -> dict[str, Clock]:
    """``agreement_<item>_<step>``: weeks after the written agreement, LA; reg 42(2) with
    the reg 44 limits (VERIFIED to (2)(c), SECONDARY beyond), reg 42(3) "other" 2 weeks
    (VERIFIED). ``agreement_health_notify``: the ICB tells the LA of a health-only
    agreement within 1 week, reg 42(4) (VERIFIED). Each ``agreement-step-done`` event
    for an item (our own event, not the contract's) meets that item's next step, in order
    (``assess``: notify, decide, final). A later agreement on the same item replaces the
    earlier clocks. Other dates agreed in writing (reg 42(5)) are not modelled."""
    clocks: dict[str, Clock] = {}
    for e in engine.events:
        if e.name != "agreement-reached":
            continue
        rs = engine.rules(e.on)
        for item in e.items:
            if item not in rs.agreement_weeks:
                raise ValueError(f"unknown agreement item {item!r}")
            done = sorted(
                d.on for d in engine.events if d.name == "agreement-step-done" and item in d.items and d.on >= e.on
            )
            for index, (step, weeks) in enumerate(rs.agreement_weeks[item].items()):
                name = f"agreement_{item}_{step}"
                clocks[name] = engine.clock(
                    name,
                    due=e.on + timedelta(weeks=weeks),
                    owner="la",
                    rs=rs,
                    rule=f"agreement_{item}",
                    started_on=e.on,
                    met_on=done[index] if index < len(done) else None,
                )
        if e.health:
            clocks["agreement_health_notify"] = engine.clock(
                "agreement_health_notify",
                owner="icb",
                rs=rs,
                rule="agreement_health",
                due=e.on + timedelta(weeks=rs.icb_health_agreement_weeks),
                started_on=e.on,
            )
    return clocks

"""A new case's clocks for the batched intake (issue 14): the three recomputations of the
per-record path (after creation; after the family's wish — the clocks the emails quote; after the
acknowledgement and the LA request), by the pure engine from the facts in hand, remembered for
the run by those facts (many forms share them), and the rows in the order the per-record
upserts left them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, compute_clocks
from tasks.cases.clock_core import build_facts, clock_values


class _WishEvent(NamedTuple):
    """The family's wish as `clock_core.build_facts` reads an event (a new case has no other)."""

    event: str
    on: date
    health: bool = False
    cert_type: str | None = None
    items: tuple[str, ...] = ()
    id: int = 0


class ClockMemo:
    """A new case's clocks, by the facts they come from, remembered for the run: the engine is pure,
    and many forms share their facts (same decision, letter and received dates, wish)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.answers: dict[tuple, tuple[dict, list[dict]]] = {}
        self.computed: dict[tuple, dict] = {}  # compute_clocks by (facts, today, overrides): steps recur too

    def outcome(
        self,
        case: Any,
        wish: str | None,
        la_informed: bool,
        overrides: Any,
        *,
        today: date,
        now: datetime,
        tz: ZoneInfo,
    ) -> tuple[dict, list[dict]]:
        """(the clocks the emails quote: name → (due, state); the `clocks` rows, no case id) — see
        the module docstring for the three recomputations."""
        key = (
            case.service, case.decision_type, case.decision_letter_sent_on, case.received_on, tuple(case.sections),
            case.health_issues, wish, la_informed, _frozen(overrides), today, now, tz,
        )  # fmt: skip
        found = self.answers.get(key)
        if found is None:
            found = self.answers[key] = self._compute(case, wish, la_informed, overrides, today, now, tz)
        return found

    def _compute(self, case: Any, wish, la_informed, overrides, today, now, tz) -> tuple[dict, list[dict]]:
        events = (_WishEvent(wish, case.received_on),) if wish else ()
        steps = [
            self._clocks(build_facts(case, step_events, None, acknowledged, informed, tz), today, overrides)
            for step_events, acknowledged, informed in (
                ((), None, None),
                *([(events, None, None)] if wish else []),
                (events, now, now if la_informed else None),
            )
        ]
        before = steps[-2]  # the clocks the per-record path held when it queued the emails
        quoted = {name: (before[name].due, before[name].state) for name in _row_order(steps[:-1])}
        final = steps[-1]
        rows = [{"name": name, **clock_values(final[name]), "computed_at": now} for name in _row_order(steps)]
        return quoted, rows

    def _clocks(self, facts: CaseFacts, today: date, overrides: Any) -> dict:
        key = (facts, today, _frozen(overrides))
        found = self.computed.get(key)
        if found is None:
            found = self.computed[key] = compute_clocks(facts, self.calendar, today, overrides=overrides)
        return found


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _row_order(steps: list[dict]) -> list[str]:
    """The clock names in the order the per-record path's upserts left the rows: each
    recomputation keeps the rows still computed and appends the new ones."""
    names: list[str] = []
    for step in steps:
        names = [n for n in names if n in step] + [n for n in step if n not in names]
    return names

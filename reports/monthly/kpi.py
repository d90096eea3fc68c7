"""What a KPI is: its name and definition (the workbook's cover sheet), its section of the
summary, and the computation of its figures — written once, together (`reports.monthly.kpis`).

A KPI's computation gets a `Period` (the rows, the per-case facts, the first and last day) and
yields its figures as `Measure`s: key, label, count, denominator and, for money, pence.
`Kpi.figures(period)` turns them into `Figure`s, the rows of the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from reports.monthly.facts import CaseFacts
from reports.monthly.rows import ReportInput, between


@dataclass(frozen=True)
class Figure:
    """One measure: `count` of `denominator` (a total is its own denominator); money in pence."""

    key: str
    section: str
    label: str
    count: int
    denominator: int
    amount_pence: int | None = None

    @property
    def ratio(self) -> float | None:
        """count / denominator, or None when the denominator is 0."""
        return self.count / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Measure:
    """A figure as a KPI computes it (its section comes from the KPI)."""

    key: str
    label: str
    count: int
    denominator: int
    amount_pence: int | None = None


@dataclass(frozen=True)
class Period:
    """What a KPI computes over: one scope's rows and facts, from `start` to `end` inclusive."""

    data: ReportInput
    facts: CaseFacts
    start: date
    end: date

    def holds(self, day: date | None) -> bool:
        return between(day, self.start, self.end)


@dataclass(frozen=True)
class Kpi:
    """One KPI: `name` and `definition` on the cover sheet, `section` on the summary, and
    `compute(period)`, the figures it yields (in the order the summary lists them)."""

    name: str
    section: str
    definition: str
    compute: Callable[[Period], Iterable[Measure]]

    def figures(self, period: Period) -> tuple[Figure, ...]:
        return tuple(
            Figure(m.key, self.section, m.label, m.count, m.denominator, m.amount_pence) for m in self.compute(period)
        )


def kpi(
    name: str, definition: str, *, section: str | None = None
) -> Callable[[Callable[[Period], Iterable[Measure]]], Kpi]:
    """Decorator: the function below is the KPI's computation; `section` defaults to `name`."""

    def define(compute: Callable[[Period], Iterable[Measure]]) -> Kpi:
        return Kpi(name, section or name, definition, compute)

    return define

"""Working days and calendar months, as the SEND deadlines count them.

Pure and standard-library only. The caller supplies the holidays (England and Wales bank
holidays from the ``holidays`` package, country GB, subdivision ENG, plus an admin's file of
proclaimed one-off holidays read with :func:`parse_extra_holidays`); this module never looks
them up itself, so it is deterministic and fast to test.

Counting rules (``docs/rules.md`` §1, VERIFIED):

* a **working day** is Monday–Friday and not a bank holiday; 24 and 31 December are ordinary
  working days;
* the trigger day is never counted (Dodds v Walker): "within N WD of X" is the Nth working day
  after X, and a trigger on a weekend or holiday starts counting at the next working day;
* **months** are calendar months by the corresponding-date rule, a missing day clamping to the
  last day of the month (31 Dec + 2 months = 28 Feb, or 29 Feb in a leap year).

All dates are Europe/London local dates (``datetime.date``, never datetimes).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import csv
import io
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta

__all__ = ["WorkingCalendar", "add_months", "parse_extra_holidays", "yearly_window_end"]

_ONE_DAY = timedelta(days=1)

#: the span whose working days a calendar lists once (first asked), for arithmetic by look-up;
#: dates outside it (and answers falling outside it) are counted day by day, as before
_SPAN_FIRST = date(2000, 1, 1).toordinal()
_SPAN_LAST = date(2069, 12, 31).toordinal()


def add_months(d: date, n: int) -> date:
    """Return the date ``n`` calendar months after ``d`` (before it when ``n`` is negative).

    Corresponding-date rule; a day that does not exist in the target month clamps to that
    month's last day: ``add_months(date(2025, 12, 31), 2) == date(2026, 2, 28)``.
    Source: docs/rules.md §1 (months), VERIFIED.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(month_index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def yearly_window_end(d: date, window: tuple[tuple[int, int], tuple[int, int]]) -> date | None:
    """Return the last day of the yearly ``window`` that contains ``d``, or ``None``.

    ``window`` is ``((start_month, start_day), (end_month, end_day))``, both ends inclusive;
    it may wrap the year end: for ``((12, 25), (1, 1))`` both 27 Dec 2026 and 1 Jan 2027 give
    1 Jan 2027. Used for the HESC r.12 Christmas and August periods (§3).
    """
    start, end, day = window[0], window[1], (d.month, d.day)
    if start <= end:
        inside, year = start <= day <= end, d.year
    else:
        inside, year = day >= start or day <= end, d.year + (day >= start)
    return date(year, *end) if inside else None


class WorkingCalendar:
    """Working-day arithmetic over a fixed set of holidays.

    ``WorkingCalendar(holidays)`` takes any iterable of ``date``; Saturdays and Sundays are
    never working days whatever the holidays say. Instances are immutable in practice and
    cheap to build: make one per run and share it.
    """

    __slots__ = ("_working", "holidays")

    holidays: frozenset[date]
    _working: list[int] | None

    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self._working = None

    def _working_ordinals(self) -> list[int]:
        """The ordinals of every working day of the span, ascending (listed on first use)."""
        if self._working is None:
            holidays = {d.toordinal() for d in self.holidays}
            # date.fromordinal(o).weekday() == (o + 6) % 7: Monday is 0
            self._working = [o for o in range(_SPAN_FIRST, _SPAN_LAST + 1) if (o + 6) % 7 < 5 and o not in holidays]
        return self._working

    def __repr__(self) -> str:
        return f"WorkingCalendar(<{len(self.holidays)} holidays>)"

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` is Monday–Friday and not a holiday."""
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, d: date, n: int) -> date:
        """Return the Nth working day after ``d``; ``d`` itself is never counted.

        ``n == 0`` returns ``d`` unchanged. A trigger on a weekend or holiday starts counting
        at the next working day, so the result of ``n >= 1`` is always a working day.
        A negative ``n`` counts backwards (see :meth:`subtract_working_days`).
        Source: docs/rules.md §1 (Dodds v Walker), VERIFIED.
        """
        if n < 0:
            return self.subtract_working_days(d, -n)
        o = d.toordinal()
        if n and _SPAN_FIRST <= o:  # the list holds every working day after d up to the span's end
            working = self._working_ordinals()
            i = bisect_right(working, o) + n - 1
            if i < len(working):
                return date.fromordinal(working[i])
        current = d
        remaining = n
        while remaining:
            current += _ONE_DAY
            if self.is_working_day(current):
                remaining -= 1
        return current

    def subtract_working_days(self, d: date, n: int) -> date:
        """Return the Nth working day before ``d``; ``d`` itself is never counted.

        Used for ``notice_by``: 5 WD before the meeting day, the meeting day excluded
        (reg 37, VERIFIED wording). ``n == 0`` returns ``d``.
        """
        if n < 0:
            return self.add_working_days(d, -n)
        o = d.toordinal()
        if n and o <= _SPAN_LAST:  # the list holds every working day before d down to the span's start
            working = self._working_ordinals()
            i = bisect_left(working, o) - n
            if i >= 0:
                return date.fromordinal(working[i])
        current = d
        remaining = n
        while remaining:
            current -= _ONE_DAY
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_day_on_or_before(self, d: date) -> date:
        """Return ``d`` if it is a working day, else the last working day before it.

        This is the *working-day target* of a calendar-day, week or month deadline: the
        regulations give no roll-forward, so alerts aim at the day before (§1).
        """
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    def working_day_on_or_after(self, d: date) -> date:
        """Return ``d`` if it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def next_working_day_after(self, d: date) -> date:
        """Return the first working day strictly after ``d``."""
        return self.working_day_on_or_after(d + _ONE_DAY)

    def working_days_between(self, a: date, b: date) -> int:
        """Return the number of working days in ``(a, b]``; negative when ``b < a``.

        ``working_days_between(due, met_on)`` is "missed by how many working days";
        ``add_working_days(a, n)`` satisfies ``working_days_between(a, result) == n``.
        """
        if b < a:
            return -self.working_days_between(b, a)
        first, last = a.toordinal(), b.toordinal()
        if _SPAN_FIRST <= first and last <= _SPAN_LAST:
            working = self._working_ordinals()
            return bisect_right(working, last) - bisect_right(working, first)
        count = 0
        current = a
        while current < b:
            current += _ONE_DAY
            if self.is_working_day(current):
                count += 1
        return count


def parse_extra_holidays(text: str) -> list[date]:
    """Parse the admin's extra-holidays CSV and return its dates in file order.

    The file has the header ``date,name`` and one ISO date (``YYYY-MM-DD``) a row, e.g. a
    proclaimed one-off bank holiday. Blank lines and lines starting with ``#`` are ignored.

    Raises ``ValueError`` naming the line for a missing ``date`` column or a bad date.
    """
    kept: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            kept.append((number, line))
    if not kept:
        return []
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in kept)))
    fields = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "date" not in fields:
        raise ValueError(f"extra holidays: line {kept[0][0]}: header must be 'date,name'")
    reader.fieldnames = fields
    dates: list[date] = []
    for (number, _), row in zip(kept[1:], reader):
        value = (row.get("date") or "").strip()
        try:
            dates.append(date.fromisoformat(value))
        except ValueError:
            raise ValueError(f"extra holidays: line {number}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
    return dates

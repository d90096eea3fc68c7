"""Working-day and calendar-month counting (docs/rules.md §1, VERIFIED)."""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import date, timedelta
from importlib import resources

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.calendar import (
    WorkingCalendar,
    add_months,
    parse_extra_holidays,
    yearly_window_end,
)

ENGLAND = WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030)))
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
COUNTS = st.integers(min_value=0, max_value=40)


# --- add_months ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 11, 12), 2, date(2027, 1, 12)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 5), 0, date(2026, 5, 5)),
    ],
)
def test_add_months_uses_the_corresponding_date_and_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


@given(DAYS, st.integers(min_value=-24, max_value=24))
def test_add_months_clamps_to_the_last_day_of_the_target_month(d, n):
    result = add_months(d, n)

    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == n
    last = stdlib_calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(d.day, last)


# --- working days -------------------------------------------------------------------------


def test_working_day_excludes_weekends_and_holidays_only():
    cal = WorkingCalendar([date(2026, 1, 1)])

    assert cal.is_working_day(date(2026, 1, 2))  # Friday
    assert not cal.is_working_day(date(2026, 1, 1))  # holiday
    assert not cal.is_working_day(date(2026, 1, 3))  # Saturday
    assert not cal.is_working_day(date(2026, 1, 4))  # Sunday
    assert cal.holidays == frozenset({date(2026, 1, 1)})


def test_add_working_days_never_counts_the_trigger_day():
    assert ENGLAND.add_working_days(date(2026, 3, 9), 1) == date(2026, 3, 10)  # Mon -> Tue
    assert ENGLAND.add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 16)  # Fri -> Mon


def test_add_working_days_from_a_weekend_starts_counting_at_the_next_working_day():
    assert ENGLAND.add_working_days(date(2026, 3, 14), 1) == date(2026, 3, 16)  # Sat -> Mon
    assert ENGLAND.add_working_days(date(2026, 3, 15), 3) == date(2026, 3, 18)  # Sun -> Wed


def test_add_zero_working_days_returns_the_trigger_even_on_a_weekend():
    assert ENGLAND.add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 14)


def test_subtract_working_days_excludes_the_meeting_day_and_skips_bank_holidays():
    # Meeting Thu 7 May 2026; Mon 4 May is a bank holiday: 6, 5, 1, 30 Apr, 29 Apr.
    assert ENGLAND.subtract_working_days(date(2026, 5, 7), 5) == date(2026, 4, 29)
    assert ENGLAND.subtract_working_days(date(2026, 5, 7), 0) == date(2026, 5, 7)


def test_working_day_on_or_before_and_after_move_off_weekends_and_holidays():
    good_friday = date(2026, 4, 3)

    assert ENGLAND.working_day_on_or_before(good_friday) == date(2026, 4, 2)
    assert ENGLAND.working_day_on_or_after(good_friday) == date(2026, 4, 7)
    assert ENGLAND.working_day_on_or_before(date(2026, 4, 2)) == date(2026, 4, 2)
    assert ENGLAND.next_working_day_after(date(2026, 4, 2)) == date(2026, 4, 7)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 3, 9), date(2026, 3, 16), 5),
        (date(2026, 3, 16), date(2026, 3, 9), -5),
        (date(2026, 4, 2), date(2026, 4, 7), 1),  # Good Friday, weekend, Easter Monday
    ],
)
def test_working_days_between_counts_the_half_open_interval(a, b, expected):
    assert ENGLAND.working_days_between(a, b) == expected


@given(DAYS, st.integers(min_value=1, max_value=40))
def test_a_working_day_result_is_always_a_working_day(d, n):
    assert ENGLAND.is_working_day(ENGLAND.add_working_days(d, n))
    assert ENGLAND.is_working_day(ENGLAND.subtract_working_days(d, n))


@given(DAYS, DAYS, COUNTS)
def test_a_later_trigger_never_gives_an_earlier_working_day_due_date(a, b, n):
    early, late = sorted((a, b))

    assert ENGLAND.add_working_days(early, n) <= ENGLAND.add_working_days(late, n)


@given(DAYS, COUNTS)
def test_working_days_between_inverts_add_and_subtract(d, n):
    assert ENGLAND.working_days_between(d, ENGLAND.add_working_days(d, n)) == n
    meeting = ENGLAND.working_day_on_or_after(d)  # (b, a] counts a: exact from a working day
    assert ENGLAND.working_days_between(meeting, ENGLAND.subtract_working_days(meeting, n)) == -n


@given(DAYS)
def test_working_day_target_is_never_after_the_date(d):
    target = ENGLAND.working_day_on_or_before(d)

    assert target <= d
    assert ENGLAND.is_working_day(target)
    assert all(not ENGLAND.is_working_day(target + timedelta(days=k)) for k in range(1, (d - target).days + 1))


@pytest.mark.parametrize(
    ("day", "window", "expected"),
    [
        (date(2026, 12, 27), ((12, 25), (1, 1)), date(2027, 1, 1)),
        (date(2027, 1, 1), ((12, 25), (1, 1)), date(2027, 1, 1)),
        (date(2026, 12, 24), ((12, 25), (1, 1)), None),
        (date(2027, 1, 2), ((12, 25), (1, 1)), None),
        (date(2026, 8, 1), ((8, 1), (8, 31)), date(2026, 8, 31)),
        (date(2026, 9, 1), ((8, 1), (8, 31)), None),
    ],
)
def test_yearly_window_end_finds_the_end_of_the_window_containing_the_day(day, window, expected):
    assert yearly_window_end(day, window) == expected


# --- extra holidays file ------------------------------------------------------------------


def test_parse_extra_holidays_reads_dates_and_skips_comments_and_blank_lines():
    text = "date,name\n# proclaimed\n\n2022-09-19,State funeral\n2023-05-08, Coronation \n"

    assert parse_extra_holidays(text) == [date(2022, 9, 19), date(2023, 5, 8)]


def test_parse_extra_holidays_of_a_header_only_file_is_empty():
    assert parse_extra_holidays("date,name\n") == []
    assert parse_extra_holidays("") == []


def test_parse_extra_holidays_names_the_line_of_a_bad_date():
    with pytest.raises(ValueError, match="line 3"):
        parse_extra_holidays("date,name\n2022-09-19,ok\n19/09/2022,bad\n")


def test_parse_extra_holidays_rejects_a_file_without_a_date_column():
    with pytest.raises(ValueError, match="header"):
        parse_extra_holidays("day,name\n2022-09-19,x\n")


def test_shipped_extra_holidays_file_is_just_the_header():
    text = resources.files("models.domain").joinpath("data/extra-holidays.csv").read_text()

    assert text.splitlines() == ["date,name"]
    assert parse_extra_holidays(text) == []


# --- look-up arithmetic (the span's working days listed once) against counting day by day ------


class DayByDay(WorkingCalendar):
    """The reference: the same calendar counting one day at a time (the pre-look-up algorithm)."""

    def add_working_days(self, d: date, n: int) -> date:
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            remaining -= self.is_working_day(d)
        return d

    def subtract_working_days(self, d: date, n: int) -> date:
        return self.add_working_days(d, -n)

    def working_days_between(self, a: date, b: date) -> int:
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))


REFERENCE = DayByDay(ENGLAND.holidays | {date(2069, 12, 31), date(2000, 1, 3), date(2026, 12, 29)})
LOOK_UP = WorkingCalendar(REFERENCE.holidays)
# dates across the look-up span's edges (2000-01-01 and 2069-12-31) and well inside it
ANY_DAY = st.one_of(
    st.dates(min_value=date(1999, 11, 1), max_value=date(2000, 3, 1)),
    st.dates(min_value=date(2069, 11, 1), max_value=date(2070, 3, 1)),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
)


@given(ANY_DAY, st.integers(min_value=-80, max_value=80))
def test_adding_and_subtracting_working_days_by_look_up_counts_as_day_by_day(d, n):
    assert LOOK_UP.add_working_days(d, n) == REFERENCE.add_working_days(d, n)
    assert LOOK_UP.subtract_working_days(d, n) == REFERENCE.subtract_working_days(d, n)


@given(ANY_DAY, st.integers(min_value=-120, max_value=120))
def test_working_days_between_by_look_up_counts_as_day_by_day(a, days):
    b = a + timedelta(days=days)
    assert LOOK_UP.working_days_between(a, b) == REFERENCE.working_days_between(a, b)


def test_the_look_up_honours_a_holiday_and_the_span_edges():
    proclaimed = date(2026, 12, 29)  # a Tuesday made a holiday
    # 25 Dec and 28 Dec (Boxing Day's substitute) are bank holidays, 26–27 a weekend
    assert ENGLAND.add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 30)
    assert LOOK_UP.add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 31)
    assert LOOK_UP.subtract_working_days(date(2026, 12, 31), 1) == date(2026, 12, 30)
    assert LOOK_UP.working_days_between(date(2026, 12, 24), date(2026, 12, 31)) == 2
    assert not LOOK_UP.is_working_day(proclaimed)
    # 31 Dec 2069 (a Tuesday, the span's last day) made a holiday; 1–2 Jan 2070 outside the span
    assert LOOK_UP.working_days_between(date(2069, 12, 30), date(2070, 1, 2)) == 2
    assert LOOK_UP.add_working_days(date(1999, 12, 30), 1) == date(1999, 12, 31)

"""The worked examples of docs/rules.md §6, end to end through ``compute_clocks``.

The calendar is built here from the ``holidays`` package (GB, subdivision ENG), exactly as the
application feeds it; the domain itself never imports ``holidays``.
"""

from __future__ import annotations

from datetime import date

import holidays
import pytest

from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Event, compute_clocks


@pytest.fixture(scope="module")
def england() -> WorkingCalendar:
    return WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030)).keys())


def _facts(*events: Event, letter: date | None = None, received: date | None = None) -> CaseFacts:
    first = min([e.on for e in events] + ([letter] if letter else []))
    return CaseFacts(
        service="mediation",
        decision_type="refuse_assessment",
        letter_sent_on=letter,
        received_on=received or first,
        events=events,
    )


WORKED_EXAMPLES = [
    pytest.param(
        _facts(Event("mediation-declined", date(2025, 4, 17))),
        "certificate_due",
        date(2025, 4, 24),
        "SECONDARY",
        id="SECONDARY-declined-before-Easter-skips-Good-Friday-and-Easter-Monday",
    ),
    pytest.param(
        _facts(
            Event("mediation-requested", date(2025, 4, 1)),
            Event("la-received-request", date(2025, 4, 2)),
            Event("mediation-concluded", date(2025, 5, 2)),
        ),
        "certificate_due",
        date(2025, 5, 8),
        "SECONDARY",
        id="SECONDARY-after-mediation-skips-early-May-bank-holiday",
    ),
    pytest.param(
        _facts(Event("mediation-requested", date(2025, 11, 28)), Event("la-received-request", date(2025, 12, 1))),
        "mediation_by",
        date(2025, 12, 31),
        "SECONDARY",
        id="SECONDARY-mediation-within-30-days-of-LA-receiving-the-request",
    ),
    pytest.param(
        _facts(
            Event("mediation-requested", date(2025, 11, 28)),
            Event("la-received-request", date(2025, 12, 1)),
            Event("la-cannot-arrange", date(2025, 12, 24)),
        ),
        "certificate_due",
        date(2025, 12, 31),
        "SECONDARY",
        id="SECONDARY-deemed-certificate-skips-Christmas-and-the-weekend",
    ),
    pytest.param(
        _facts(Event("certificate-issued", date(2026, 1, 15), cert_type="declined"), letter=date(2025, 12, 31)),
        "appeal_deadline",
        date(2026, 3, 2),
        "VERIFIED",
        id="VERIFIED-appeal-two-months-clamped-to-Sat-28-Feb-moves-to-Monday",
    ),
    pytest.param(
        _facts(Event("certificate-issued", date(2026, 11, 27), cert_type="declined"), letter=date(2026, 10, 1)),
        "appeal_deadline",
        date(2027, 1, 4),
        "VERIFIED",
        id="VERIFIED-appeal-certificate-month-in-Christmas-window-moves-past-1-January",
    ),
    pytest.param(
        _facts(Event("agreement-reached", date(2026, 5, 5), items=("issue-plan",))),
        "agreement_issue-plan_draft",
        date(2026, 6, 9),
        "SECONDARY",
        id="SECONDARY-agreement-to-issue-a-plan-draft-in-5-weeks",
    ),
    pytest.param(
        _facts(Event("agreement-reached", date(2026, 5, 5), items=("issue-plan",))),
        "agreement_issue-plan_final",
        date(2026, 7, 21),
        "SECONDARY",
        id="SECONDARY-agreement-to-issue-a-plan-final-in-11-weeks",
    ),
]


@pytest.mark.parametrize(("facts", "clock", "due", "level"), WORKED_EXAMPLES)
def test_worked_example_gives_the_documented_due_date(england, facts, clock, due, level):
    clocks = compute_clocks(facts, england, today=date(2025, 1, 1))

    assert clocks[clock].due == due
    assert clocks[clock].level == level
    assert clocks[clock].target == due  # every documented date is itself a working day


def test_worked_example_deemed_certificate_is_the_deemed_variant(england):
    facts = WORKED_EXAMPLES[3].values[0]

    clock = compute_clocks(facts, england, today=date(2025, 12, 24))["certificate_due"]

    assert (clock.note, clock.owner, clock.state) == ("deemed", "adviser", "open")


def test_worked_example_la_cannot_arrange_makes_mediation_by_not_applicable(england):
    facts = WORKED_EXAMPLES[3].values[0]

    clock = compute_clocks(facts, england, today=date(2025, 12, 24))["mediation_by"]

    assert (clock.due, clock.state) == (date(2025, 12, 31), "not_applicable")


BANK_HOLIDAYS_IN_SPEC = {
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(BANK_HOLIDAYS_IN_SPEC))
def test_calendar_bank_holidays_match_the_spec_list(england, year):
    expected = {date.fromisoformat(f"{year}-{md}") for md in BANK_HOLIDAYS_IN_SPEC[year]}

    weekday_holidays = {d for d in england.holidays if d.year == year and d.weekday() < 5}

    assert weekday_holidays == expected


def test_calendar_new_year_2028_substitute_day_is_monday_3_january(england):
    assert not england.is_working_day(date(2028, 1, 3))
    assert england.next_working_day_after(date(2027, 12, 31)) == date(2028, 1, 4)


@pytest.mark.parametrize("day", [date(2025, 12, 24), date(2025, 12, 31), date(2026, 12, 24)])
def test_calendar_christmas_eve_and_new_years_eve_are_working_days(england, day):
    assert england.is_working_day(day)

"""Every clock the engine can emit has plain words; the code stays in brackets for the team."""

from __future__ import annotations

from datetime import date

import holidays

from models.domain.calendar import WorkingCalendar
from models.domain.clock_labels import CLOCK_LABELS, clock_label, clock_names, clock_title, state_words
from models.domain.clocks import CaseFacts, Event, NextSession, compute_clocks
from models.domain.rules import RULESETS
from models.domain.vocabulary import AGREEMENT_ITEMS

ENGLAND = WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2025, 2028)))


def _every_clock_a_case_can_have() -> set[str]:
    """Run the engine over cases that between them start every clock it knows."""
    on = date(2026, 3, 2)
    full = CaseFacts(
        service="mediation",
        decision_type="refuse_assessment",
        letter_sent_on=date(2026, 2, 20),
        received_on=on,
        events=(
            Event("mediation-requested", date(2026, 3, 3)),
            Event("la-received-request", date(2026, 3, 4), health=True),
            Event("icb-received-request", date(2026, 3, 5)),
            Event("mediation-concluded", date(2026, 3, 30)),
            Event("agreement-reached", date(2026, 3, 30), health=True, items=AGREEMENT_ITEMS),
        ),
        next_session=NextSession(date(2026, 3, 30), date(2026, 3, 10)),
    )
    health_only = CaseFacts(
        service="mediation",
        decision_type="refuse_plan",
        letter_sent_on=on,
        received_on=on,
        events=(Event("icb-received-request", date(2026, 3, 3)),),
    )
    drs = CaseFacts(service="drs", decision_type=None, letter_sent_on=None, received_on=on)
    names: set[str] = set()
    for facts in (full, health_only, drs):
        names |= set(compute_clocks(facts, ENGLAND, date(2026, 4, 1)))
    return names


def test_every_clock_compute_clocks_emits_has_a_label():
    emitted = _every_clock_a_case_can_have()

    assert emitted == set(clock_names())  # the list walks everything the engine can produce
    for name in emitted:
        assert name in CLOCK_LABELS, name
        assert clock_label(name) != name and "_" not in clock_label(name), name


def test_clock_names_cover_every_agreement_step_of_every_rule_set():
    for rs in RULESETS:
        for item, steps in rs.agreement_weeks.items():
            for step in steps:
                assert f"agreement_{item}_{step}" in CLOCK_LABELS


def test_labels_are_distinct_so_no_two_clocks_read_the_same():
    assert len(set(CLOCK_LABELS.values())) == len(CLOCK_LABELS)


def test_the_title_carries_the_code_in_brackets():
    assert clock_title("agreement_issue-plan_final") == (
        "LA to issue the final plan (agreed at mediation) [agreement_issue-plan_final]"
    )
    assert clock_title("acknowledge_by") == "Acknowledge the referral [acknowledge_by]"


def test_an_unknown_name_still_reads_as_words():
    assert clock_label("agreement_new-item_do") == "LA to do for 'new-item' (agreed at mediation)"
    assert clock_label("some_future_clock") == "Some future clock"


def test_state_words_say_how_late_a_clock_was_met():
    assert state_words("met", date(2026, 11, 27), 1) == "met 1 working day late (2026-11-27)"
    assert state_words("met", date(2026, 12, 1), 3) == "met 3 working days late (2026-12-01)"
    assert state_words("met", date(2026, 11, 25), 0) == "met on time (2026-11-25)"
    assert state_words("met") == "met"
    assert (state_words("open"), state_words("missed"), state_words("not_applicable")) == (
        "open",
        "missed",
        "not applicable",
    )

"""The clock engine's rules (docs/rules.md §2-§4), rule sets and overrides."""

from __future__ import annotations

import ast
import dataclasses
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain import rules as rules_module
from models.domain.calendar import WorkingCalendar
from models.domain.clocks import (
    CaseFacts,
    Event,
    NextSession,
    certificate_needed,
    clock_to_json,
    compute_clocks,
)
from models.domain.rules import (
    CURRENT_RULES_VERSION,
    RULESETS,
    RuleSet,
    ruleset_for,
    with_overrides,
)

ENGLAND = WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030)))
LETTER = date(2026, 3, 2)  # Monday
RECEIVED = date(2026, 3, 9)  # Monday


def facts(*events: Event, **changes) -> CaseFacts:
    base = CaseFacts(
        service="mediation",
        decision_type="refuse_assessment",
        letter_sent_on=LETTER,
        received_on=RECEIVED,
        events=events,
    )
    return dataclasses.replace(base, **changes)


def clocks_of(case: CaseFacts, today: date = RECEIVED, **kwargs):
    return compute_clocks(case, ENGLAND, today, **kwargs)


def ev(name: str, day: int, month: int = 3, **kw) -> Event:
    return Event(name, date(2026, month, day), **kw)


# --- shape ---------------------------------------------------------------------------------


def test_clock_to_json_has_exactly_the_contract_keys():
    clock = clocks_of(facts(ev("mediation-declined", 10)))["certificate_due"]

    assert clock_to_json(clock) == {
        "due": "2026-03-13",
        "target": "2026-03-13",
        "state": "open",
        "owner": "adviser",
        "level": "SECONDARY",
        "met_on": None,
        "late_wd": None,
    }


def test_drs_case_has_only_acknowledge_and_first_contact_clocks():
    case = facts(
        ev("mediation-declined", 10),
        ev("agreement-reached", 11, items=("other",)),
        service="drs",
        decision_type=None,
        letter_sent_on=None,
        next_session=NextSession(date(2026, 4, 1), date(2026, 3, 10)),
    )

    assert set(clocks_of(case)) == {"acknowledge_by", "first_contact_by"}
    assert certificate_needed(case) is False


def test_unknown_service_is_rejected():
    with pytest.raises(ValueError, match="service"):
        clocks_of(facts(service="advice"))


# --- §4 service standards ------------------------------------------------------------------


def test_service_standards_are_level_service_and_open_until_their_target():
    clocks = clocks_of(facts(), today=date(2026, 3, 10))

    ack, first = clocks["acknowledge_by"], clocks["first_contact_by"]
    assert (ack.due, ack.state, ack.level, ack.owner) == (date(2026, 3, 10), "open", "SERVICE", "adviser")
    assert (first.due, first.state) == (date(2026, 3, 11), "open")


def test_service_standards_are_missed_the_day_after_their_target():
    clocks = clocks_of(facts(), today=date(2026, 3, 12))

    assert clocks["acknowledge_by"].state == clocks["first_contact_by"].state == "missed"


def test_information_given_meets_first_contact_and_acknowledgement():
    clocks = clocks_of(facts(ev("information-given", 10)), today=date(2026, 3, 20))

    assert clocks["first_contact_by"].met_on == date(2026, 3, 10)
    assert clocks["acknowledge_by"].state == "met"


def test_acknowledged_on_meets_acknowledge_by_without_any_event():
    clock = clocks_of(facts(acknowledged_on=RECEIVED), today=date(2026, 3, 20))["acknowledge_by"]

    assert (clock.state, clock.met_on) == ("met", RECEIVED)


def test_la_informed_by_runs_from_the_request_and_is_met_by_la_receiving_it():
    clocks = clocks_of(facts(ev("mediation-requested", 13), ev("la-received-request", 16)))

    clock = clocks["la_informed_by"]
    assert (clock.due, clock.state, clock.met_on) == (date(2026, 3, 16), "met", date(2026, 3, 16))


def test_la_informed_by_is_met_when_the_service_sent_the_request_itself():
    sent = clocks_of(facts(ev("mediation-requested", 13), la_informed_on=date(2026, 3, 13)), today=date(2026, 3, 20))[
        "la_informed_by"
    ]
    earlier = clocks_of(facts(ev("mediation-requested", 13), la_informed_on=date(2026, 3, 2)), today=date(2026, 3, 20))[
        "la_informed_by"
    ]

    assert (sent.state, sent.met_on) == ("met", date(2026, 3, 13))
    assert earlier.state == "missed"  # an email sent before this request does not pass it on


def test_local_authority_override_changes_a_service_standard():
    clock = clocks_of(facts(), overrides={"first_contact_wd": 5})["first_contact_by"]

    assert clock.due == date(2026, 3, 16)


@pytest.mark.parametrize("key", ["certificate_declined_wd", "no_such_period"])
def test_override_of_a_statutory_or_unknown_period_names_the_key(key):
    with pytest.raises(ValueError, match=key):
        with_overrides(RULESETS[0], {key: 4})


def test_override_must_be_a_non_negative_whole_number():
    with pytest.raises(ValueError, match="acknowledge_wd"):
        with_overrides(RULESETS[0], {"acknowledge_wd": -1})


# --- contact_adviser_by (reg 33, VERIFIED) -----------------------------------------------


def test_contact_adviser_by_is_met_by_a_referral_within_two_months():
    clock = clocks_of(facts())["contact_adviser_by"]

    assert (clock.due, clock.state, clock.owner, clock.level) == (date(2026, 5, 2), "met", "family", "VERIFIED")
    assert clock.target == date(2026, 5, 1)  # Sat 2 May: alerts aim at Friday


def test_contact_adviser_by_is_missed_by_a_referral_after_two_months():
    clock = clocks_of(facts(received_on=date(2026, 5, 5)), today=date(2026, 5, 5))

    assert clock["contact_adviser_by"].state == "missed"


# --- certificate_due ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "variant", "owner", "level"),
    [
        ((ev("mediation-declined", 10),), "declined", "adviser", "SECONDARY"),
        ((ev("mediation-requested", 9), ev("withdrawn", 10)), "withdrawn", "adviser", "UNVERIFIED"),
        ((ev("la-received-request", 2), ev("la-cannot-arrange", 10)), "deemed", "adviser", "SECONDARY"),
        ((ev("la-received-request", 2), ev("mediation-concluded", 10)), "after-mediation", "mediator", "SECONDARY"),
    ],
    ids=["SECONDARY-declined", "UNVERIFIED-withdrawn", "SECONDARY-deemed", "SECONDARY-after-mediation"],
)
def test_certificate_due_three_working_days_after_each_trigger(events, variant, owner, level):
    clock = clocks_of(facts(*events), today=date(2026, 3, 10))["certificate_due"]

    assert (clock.due, clock.note, clock.owner, clock.level) == (date(2026, 3, 13), variant, owner, level)
    assert clock.started_on == date(2026, 3, 10)


def test_withdrawal_without_a_mediation_request_starts_no_certificate_clock():
    assert "certificate_due" not in clocks_of(facts(ev("withdrawn", 10)))


def test_no_trigger_means_no_certificate_clock():
    assert "certificate_due" not in clocks_of(facts(ev("information-given", 10)))


def test_latest_certificate_trigger_wins():
    case = facts(
        ev("mediation-declined", 10),
        ev("mediation-requested", 16),
        ev("la-received-request", 17),
        ev("la-cannot-arrange", 24),
    )

    clock = clocks_of(case)["certificate_due"]

    assert (clock.note, clock.due) == ("deemed", date(2026, 3, 27))


def test_certificate_issued_on_the_trigger_day_meets_the_clock():
    case = facts(ev("mediation-declined", 10), ev("certificate-issued", 10, cert_type="declined"))

    clock = clocks_of(case, today=date(2026, 4, 1))["certificate_due"]

    assert (clock.state, clock.met_on) == ("met", date(2026, 3, 10))


def test_late_certificate_is_met_and_shows_how_many_working_days_late():
    case = facts(ev("mediation-declined", 10), ev("certificate-issued", 17, cert_type="declined"))

    clock = clocks_of(case, today=date(2026, 4, 1))["certificate_due"]

    assert (clock.state, clock.met_on) == ("met", date(2026, 3, 17))
    assert ENGLAND.working_days_between(clock.due, clock.met_on) == 2


def test_certificate_issued_before_the_trigger_does_not_meet_it():
    case = facts(ev("certificate-issued", 9, cert_type="declined"), ev("mediation-declined", 10))

    assert clocks_of(case, today=date(2026, 3, 16))["certificate_due"].state == "missed"


def test_certificate_not_needed_for_a_section_i_only_appeal():
    case = facts(ev("mediation-declined", 10), decision_type="plan_contents", sections=("I",))

    assert certificate_needed(case) is False
    assert clocks_of(case)["certificate_due"].state == "not_applicable"


@pytest.mark.parametrize("sections", [("B", "I"), ("F", "I"), ("i", "B"), ()])
def test_certificate_still_needed_when_section_i_is_mixed_or_unknown(sections):
    assert certificate_needed(facts(decision_type="plan_contents", sections=sections)) is True


# --- icb_notify_by and mediation_by (SECONDARY) ------------------------------------------


def test_SECONDARY_icb_notify_by_only_when_the_request_includes_health_care():
    plain = clocks_of(facts(ev("la-received-request", 10)))
    health = clocks_of(facts(ev("la-received-request", 10, health=True), ev("icb-received-request", 12)))[
        "icb_notify_by"
    ]

    assert "icb_notify_by" not in plain
    assert (health.due, health.owner, health.state) == (date(2026, 3, 13), "la", "met")


def test_SECONDARY_mediation_by_is_met_only_when_held_by_the_due_date():
    on_time = clocks_of(facts(ev("la-received-request", 2), ev("mediation-concluded", 1, 4)), today=date(2026, 4, 10))[
        "mediation_by"
    ]
    late = clocks_of(facts(ev("la-received-request", 2), ev("mediation-concluded", 2, 4)), today=date(2026, 4, 10))[
        "mediation_by"
    ]

    assert on_time.due == late.due == date(2026, 4, 1)
    assert (on_time.state, late.state) == ("met", "missed")
    assert "UNVERIFIED" in on_time.source


def test_SECONDARY_mediation_by_runs_from_the_icb_for_health_only_issues():
    clock = clocks_of(facts(ev("icb-received-request", 10)))["mediation_by"]

    assert (clock.owner, clock.due) == ("icb", date(2026, 4, 9))


@pytest.mark.parametrize("ender", ["la-cannot-arrange", "withdrawn"])
def test_SECONDARY_mediation_by_not_applicable_once_mediation_cannot_happen(ender):
    case = facts(ev("mediation-requested", 1), ev("la-received-request", 2), ev(ender, 20))

    assert clocks_of(case, today=date(2026, 4, 10))["mediation_by"].state == "not_applicable"


# --- notice_by (reg 37, VERIFIED) --------------------------------------------------------


@pytest.mark.parametrize(
    ("booked_on", "agreed", "state"),
    [(date(2026, 4, 29), False, "met"), (date(2026, 4, 30), False, "missed"), (date(2026, 5, 5), True, "met")],
    ids=["booked-in-time", "booked-late", "short-notice-agreed"],
)
def test_notice_by_is_five_working_days_before_the_meeting(booked_on, agreed, state):
    session = NextSession(starts_on=date(2026, 5, 7), booked_on=booked_on, short_notice_agreed=agreed)

    clock = clocks_of(facts(next_session=session), today=booked_on)["notice_by"]

    assert (clock.due, clock.target, clock.state) == (date(2026, 4, 29), date(2026, 4, 29), state)
    assert (clock.owner, clock.level) == ("adviser", "VERIFIED")


# --- appeal_deadline (HESC r.20, r.12, VERIFIED) ------------------------------------------


def test_appeal_deadline_without_certificate_is_letter_plus_two_months_on_a_working_day():
    clock = clocks_of(facts())["appeal_deadline"]

    assert (clock.due, clock.target, clock.owner) == (date(2026, 5, 5), date(2026, 5, 5), "family")


def test_appeal_deadline_in_august_moves_to_the_first_working_day_after_31_august():
    clock = clocks_of(facts(letter_sent_on=date(2026, 6, 10)))["appeal_deadline"]

    assert clock.due == date(2026, 9, 1)  # Mon 31 Aug 2026 is a bank holiday


def test_appeal_deadline_is_met_once_the_appeal_is_lodged():
    assert clocks_of(facts(appeal_lodged=True))["appeal_deadline"].state == "met"


def test_no_letter_date_means_no_letter_clocks():
    assert {"appeal_deadline", "contact_adviser_by"}.isdisjoint(clocks_of(facts(letter_sent_on=None)))


# --- agreement follow-ups (reg 42, reg 44) -------------------------------------------------


def test_agreement_follow_up_names_match_the_contract():
    items = ("assess", "reassess", "issue-plan", "amend-plan", "continue-plan", "other")

    names = {n for n in clocks_of(facts(ev("agreement-reached", 10, items=items))) if n.startswith("agreement_")}

    assert names == {
        "agreement_assess_notify",
        "agreement_assess_decide",
        "agreement_assess_final",
        "agreement_reassess_notify",
        "agreement_reassess_decide",
        "agreement_reassess_final",
        "agreement_issue-plan_draft",
        "agreement_issue-plan_final",
        "agreement_amend-plan_amend",
        "agreement_continue-plan_continue",
        "agreement_other_do",
    }


@pytest.mark.parametrize(
    ("item", "name", "due", "level"),
    [
        ("assess", "agreement_assess_notify", date(2026, 3, 24), "VERIFIED"),
        ("assess", "agreement_assess_final", date(2026, 6, 16), "VERIFIED"),
        ("amend-plan", "agreement_amend-plan_amend", date(2026, 4, 14), "SECONDARY"),
        ("continue-plan", "agreement_continue-plan_continue", date(2026, 3, 10), "SECONDARY"),
        ("other", "agreement_other_do", date(2026, 3, 24), "VERIFIED"),
    ],
    ids=[
        "VERIFIED-assess-notify",
        "VERIFIED-assess-final",
        "SECONDARY-amend",
        "SECONDARY-continue-same-day",
        "VERIFIED-other",
    ],
)
def test_agreement_follow_up_is_weeks_after_the_agreement(item, name, due, level):
    clock = clocks_of(facts(ev("agreement-reached", 10, items=(item,))))[name]

    assert (clock.due, clock.level, clock.owner, clock.state) == (due, level, "la", "open")


def test_each_step_done_meets_the_next_follow_up_of_that_item_in_order():
    case = facts(
        ev("agreement-reached", 10, items=("assess", "other")),
        ev("agreement-step-done", 20, items=("assess",)),
        ev("agreement-step-done", 9, 4, items=("assess",)),
    )
    clocks = clocks_of(case, today=date(2026, 7, 1))

    assert (clocks["agreement_assess_notify"].state, clocks["agreement_assess_notify"].met_on) == (
        "met",
        date(2026, 3, 20),
    )
    assert (clocks["agreement_assess_decide"].state, clocks["agreement_assess_decide"].met_on) == (
        "met",
        date(2026, 4, 9),
    )
    assert clocks["agreement_assess_final"].state == "missed"  # due 16 June, not done
    assert clocks["agreement_other_do"].state == "missed"  # a step of another item meets nothing here


def test_a_step_done_before_a_new_agreement_does_not_meet_its_clocks():
    case = facts(
        ev("agreement-reached", 2, items=("other",)),
        ev("agreement-step-done", 5, items=("other",)),
        ev("agreement-reached", 10, items=("other",)),
    )

    assert clocks_of(case, today=date(2026, 3, 12))["agreement_other_do"].state == "open"


def test_health_only_agreement_gives_the_icb_one_week_to_tell_the_la():
    clock = clocks_of(facts(ev("agreement-reached", 10, items=(), health=True)))["agreement_health_notify"]

    assert (clock.due, clock.owner) == (date(2026, 3, 17), "icb")


def test_unknown_agreement_item_is_rejected():
    with pytest.raises(ValueError, match="teleport"):
        clocks_of(facts(ev("agreement-reached", 10, items=("teleport",))))


# --- closing -------------------------------------------------------------------------------


def test_closing_makes_clocks_due_later_not_applicable_and_keeps_the_rest():
    case = facts(
        ev("mediation-declined", 10),
        ev("certificate-issued", 11, cert_type="declined"),
        ev("la-received-request", 11, health=True),
        ev("closed", 17),
    )

    clocks = clocks_of(case, today=date(2026, 6, 1))

    assert clocks["certificate_due"].state == "met"
    assert clocks["icb_notify_by"].state == "missed"  # due 16 Mar, before the closing
    assert clocks["appeal_deadline"].state == "not_applicable"
    assert clocks["mediation_by"].state == "not_applicable"


# --- rule sets -----------------------------------------------------------------------------


def test_default_rule_set_is_in_force_from_1_september_2014():
    assert ruleset_for(date(2014, 9, 1)).version == "2014-09-01.1"
    assert RULESETS[0].version in CURRENT_RULES_VERSION
    with pytest.raises(ValueError):
        ruleset_for(date(2014, 8, 31))


def test_a_new_rule_set_applies_to_triggers_from_its_effective_date():
    reform = RuleSet(version="2027-01-01.1", effective_from=date(2027, 1, 1), certificate_declined_wd=5)
    sets = (*RULESETS, reform)
    before = compute_clocks(
        facts(Event("mediation-declined", date(2026, 12, 31))), ENGLAND, date(2026, 12, 31), rules=sets
    )
    after = compute_clocks(facts(Event("mediation-declined", date(2027, 1, 4))), ENGLAND, date(2027, 1, 4), rules=sets)

    assert before["certificate_due"].due == date(2027, 1, 6)  # 3 WD (1 Jan is a holiday)
    assert after["certificate_due"].due == date(2027, 1, 11)  # 5 WD


def test_every_rule_has_a_level_and_a_source():
    rules = RULESETS[0]

    assert {c.level for c in rules.citations.values()} <= {"VERIFIED", "SECONDARY", "UNVERIFIED", "SERVICE"}
    assert all(c.source for c in rules.citations.values())
    assert set(rules.agreement_weeks) == {"assess", "reassess", "issue-plan", "amend-plan", "continue-plan", "other"}


# --- properties ----------------------------------------------------------------------------

TRIGGERS = ["mediation-declined", "la-cannot-arrange", "mediation-concluded"]
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@given(st.sampled_from(TRIGGERS), DAYS, st.integers(min_value=0, max_value=60))
def test_a_later_trigger_never_gives_an_earlier_certificate_due_date(trigger, day, gap):
    early = clocks_of(facts(Event(trigger, day)))["certificate_due"]
    late = clocks_of(facts(Event(trigger, day + timedelta(days=gap))))["certificate_due"]

    assert early.due <= late.due


@given(DAYS, DAYS, st.lists(st.sampled_from(["assess", "issue-plan", "other"]), max_size=2), st.booleans(), DAYS)
def test_target_is_never_after_due_and_always_a_working_day(letter, trigger, items, health, today):
    case = facts(
        Event("mediation-requested", trigger),
        Event("la-received-request", trigger, health=health),
        Event("la-cannot-arrange", trigger + timedelta(days=9)),
        Event("certificate-issued", trigger + timedelta(days=10)),
        Event("agreement-reached", trigger, items=tuple(items), health=health),
        letter_sent_on=letter,
        received_on=min(letter, trigger),
        next_session=NextSession(trigger + timedelta(days=20), trigger),
    )

    for clock in clocks_of(case, today=today).values():
        assert clock.target <= clock.due
        assert ENGLAND.is_working_day(clock.target), clock.name


# --- purity --------------------------------------------------------------------------------

DOMAIN = Path(rules_module.__file__).parent


@pytest.mark.parametrize("module", ["calendar.py", "rules.py", "clocks.py"])
def test_domain_module_imports_only_the_standard_library_and_the_domain(module):
    tree = ast.parse((DOMAIN / module).read_text())
    roots = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    roots |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }

    assert roots - {"models"} <= set(sys.stdlib_module_names)
    assert "today()" not in (DOMAIN / module).read_text()

"""`met_on` and `late_wd` on every clock (README.md "The clocks"): a late fulfilment is visible."""

from __future__ import annotations

from datetime import date

import holidays
import pytest

from models.domain.calendar import WorkingCalendar
from models.domain.clocks import CaseFacts, Event, NextSession, clock_to_json, compute_clocks, late_working_days

ENGLAND = WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030)))


def case(*events: Event, **kw) -> CaseFacts:
    return CaseFacts(
        service="mediation",
        decision_type="refuse_assessment",
        letter_sent_on=date(2026, 3, 2),
        received_on=date(2026, 3, 9),
        events=events,
        **kw,
    )


@pytest.mark.parametrize(
    ("issued", "late"),
    [
        (date(2026, 3, 13), 0),  # Fri: the due day itself
        (date(2026, 3, 11), 0),  # early
        (date(2026, 3, 16), 1),  # Mon after a Fri target: one working day late
        (date(2026, 3, 14), 0),  # Sat after the target: no working day has passed
        (date(2026, 4, 7), 15),  # across Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr skipped)
    ],
)
def test_certificate_met_late_counts_working_days_after_the_target(issued, late):
    facts = case(
        Event("mediation-declined", date(2026, 3, 10)), Event("certificate-issued", issued, cert_type="declined")
    )

    clock = compute_clocks(facts, ENGLAND, date(2026, 4, 30))["certificate_due"]

    assert (clock.target, clock.state, clock.met_on, clock.late_wd) == (date(2026, 3, 13), "met", issued, late)
    assert clock_to_json(clock)["met_on"] == issued.isoformat()
    assert clock_to_json(clock)["late_wd"] == late


def test_open_missed_and_not_applicable_clocks_have_no_met_on_nor_late_wd():
    open_ = compute_clocks(case(Event("mediation-declined", date(2026, 3, 10))), ENGLAND, date(2026, 3, 11))
    missed = compute_clocks(case(Event("mediation-declined", date(2026, 3, 10))), ENGLAND, date(2026, 3, 20))
    closed = compute_clocks(
        case(Event("mediation-declined", date(2026, 3, 10)), Event("closed", date(2026, 3, 11))),
        ENGLAND,
        date(2026, 3, 20),
    )

    for clock, state in (
        (open_["certificate_due"], "open"),
        (missed["certificate_due"], "missed"),
        (closed["certificate_due"], "not_applicable"),
    ):
        assert clock.state == state
        assert (clock.met_on, clock.late_wd) == (None, None)
        assert {"met_on": None, "late_wd": None}.items() <= clock_to_json(clock).items()


def test_every_met_clock_with_a_date_carries_late_wd_and_every_other_clock_none():
    facts = case(
        Event("information-given", date(2026, 3, 12)),
        Event("mediation-requested", date(2026, 3, 12)),
        Event("la-received-request", date(2026, 3, 16), health=True),
        Event("icb-received-request", date(2026, 3, 24)),
        Event("mediation-concluded", date(2026, 4, 10)),
        Event("agreement-reached", date(2026, 4, 10), items=("issue-plan",)),
        Event("agreement-step-done", date(2026, 5, 20), items=("issue-plan",)),
        Event("certificate-issued", date(2026, 4, 20), cert_type="after-mediation"),
        next_session=NextSession(date(2026, 4, 10), date(2026, 3, 30)),
    )

    clocks = compute_clocks(facts, ENGLAND, date(2026, 6, 1))

    assert clocks["first_contact_by"].late_wd == 1  # 2 WD after Mon 9 Mar = Wed 11; met Thu 12
    assert clocks["icb_notify_by"].late_wd == 3  # 3 WD after Mon 16 = Thu 19; met Tue 24
    assert clocks["certificate_due"].late_wd == 3  # after Fri 10 Apr: Wed 15; issued Mon 20
    assert clocks["agreement_issue-plan_draft"].late_wd == 3  # Fri 15 May (5 weeks); done Wed 20 May
    assert clocks["la_informed_by"].late_wd == 1  # Fri 13 Mar; the LA received it Mon 16
    assert (clocks["mediation_by"].late_wd, clocks["notice_by"].late_wd) == (0, 0)
    for clock in clocks.values():
        if clock.state == "met":
            assert clock.met_on is not None and clock.late_wd is not None and clock.late_wd >= 0
            assert clock.late_wd == max(0, ENGLAND.working_days_between(clock.target, clock.met_on))
        else:
            assert (clock.met_on, clock.late_wd) == (None, None)


def test_short_notice_agreed_counts_as_on_time():
    facts = case(
        next_session=NextSession(starts_on=date(2026, 5, 7), booked_on=date(2026, 5, 5), short_notice_agreed=True)
    )

    clock = compute_clocks(facts, ENGLAND, date(2026, 5, 5))["notice_by"]

    assert (clock.state, clock.met_on, clock.late_wd) == ("met", date(2026, 5, 5), 0)


def test_late_working_days_is_none_without_a_date():
    assert late_working_days(date(2026, 3, 13), None, ENGLAND) is None
    assert late_working_days(date(2026, 3, 13), date(2026, 3, 12), ENGLAND) == 0

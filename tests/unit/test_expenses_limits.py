"""Money sanity (issue #12 §3): built-in limits when the LA's register is silent, the LA's own when
it is not; beyond them a claim is held; a second mileage claim for one meeting is held; remittance
dates that cannot be right. Pure, table-tested."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from models.domain.expenses import (
    DEFAULT_MAX_ITEM_PENCE,
    DEFAULT_MAX_MEETING_PENCE,
    DEFAULT_MAX_MILES,
    ClaimLine,
    Policy,
    PriorClaim,
    check_claim,
    remittance_problem,
)

SESSION = date(2026, 11, 10)
TODAY = date(2026, 11, 20)
SILENT = Policy(effective_from=date(2014, 9, 1))  # the register gives no limits: the built-in ones apply


def line(category="mileage", miles=None, amount=None, receipt=True, claim_id="C-1", claimant="pat@example.org"):
    return ClaimLine(
        claim_id=claim_id,
        category=category,
        session_date=SESSION,
        claimant=claimant,
        miles=Decimal(miles) if miles is not None else None,
        amount_pence=amount,
        receipt=receipt,
    )


def prior(claim_id, category, amount, status="approved", claimant="pat@example.org", day=SESSION):
    return PriorClaim(claim_id, claimant, day, category, amount, status)


def test_nine_million_miles_is_held_not_approved():
    d = check_claim(line(miles="9999999"), SILENT, SESSION, TODAY)
    assert d.status == "held"
    assert {"over-mileage-limit", "over-item-limit"} <= set(d.codes)
    assert "9,999,999 miles over the 300-mile limit" in d.finance_text
    assert d.amount_pence == 449_999_955  # what it would cost: the admin sees it


@pytest.mark.parametrize("miles, status", [("300", "approved"), ("300.01", "held"), ("42", "approved")])
def test_built_in_mileage_limit_applies_when_the_register_is_silent(miles, status):
    assert DEFAULT_MAX_MILES == 300
    assert check_claim(line(miles=miles), SILENT, SESSION, TODAY).status == status


def test_the_las_own_limits_replace_the_built_in_ones():
    strict = Policy(effective_from=date(2014, 9, 1), max_miles=Decimal(50), max_item_pence=3000, max_meeting_pence=5000)
    assert check_claim(line(miles="60"), strict, SESSION, TODAY).codes == ("over-mileage-limit",)
    assert check_claim(line(miles="40"), strict, SESSION, TODAY).status == "approved"
    assert check_claim(line("parking", amount=3001), strict, SESSION, TODAY).codes == ("over-item-limit",)
    generous = Policy(
        effective_from=date(2014, 9, 1), max_miles=Decimal(1000), max_item_pence=200_000, max_meeting_pence=500_000
    )
    assert check_claim(line(miles="600"), generous, SESSION, TODAY).status == "approved"
    assert check_claim(line("childcare", amount=120_000), generous, SESSION, TODAY).status == "approved"


def test_limits_apply_even_with_no_policy_for_the_date():
    d = check_claim(line(miles="5000"), [], SESSION, TODAY)
    assert set(d.codes) == {"no-policy", "over-mileage-limit"}


def test_an_item_over_the_built_in_amount_is_held():
    assert check_claim(line("childcare", amount=DEFAULT_MAX_ITEM_PENCE), SILENT, SESSION, TODAY).status == "approved"
    d = check_claim(line("childcare", amount=DEFAULT_MAX_ITEM_PENCE + 1), SILENT, SESSION, TODAY)
    assert d.codes == ("over-item-limit",) and "£500.00 limit for one item" in d.finance_text


def test_one_claimants_total_for_a_meeting_is_capped():
    earlier = [
        prior("C-0", "childcare", 45_000),
        prior("C-1a", "dependant_care", 45_000),
        prior("C-X", "meal", 9_000, status="rejected"),
        prior("C-Y", "meal", 9_000, claimant="sam@example.org"),
    ]
    assert (
        check_claim(line("public_transport", amount=5_000), SILENT, SESSION, TODAY, prior=earlier).status == "approved"
    )
    d = check_claim(
        line("public_transport", amount=DEFAULT_MAX_MEETING_PENCE - 90_000 + 1), SILENT, SESSION, TODAY, prior=earlier
    )
    assert d.codes == ("over-meeting-limit",) and "total £1,000.01" in d.finance_text
    # a claim held for an admin (e.g. absurd miles) does not hold the claimant's ordinary ones
    absurd = [prior("C-0", "mileage", 449_999_955, status="held")]
    assert check_claim(line("parking", amount=400), SILENT, SESSION, TODAY, prior=absurd).status == "approved"
    # another meeting's claims do not count
    other_day = [prior("C-0", "childcare", 45_000, day=date(2026, 11, 3))]
    assert check_claim(line("childcare", amount=45_000), SILENT, SESSION, TODAY, prior=other_day).status == "approved"


def test_a_second_mileage_claim_for_the_same_meeting_and_claimant_is_held():
    first = [prior("C-0", "mileage", 900)]
    d = check_claim(line(miles="30", claim_id="C-2"), SILENT, SESSION, TODAY, prior=first)
    assert d.status == "held" and d.codes == ("second-mileage",) and "C-0" in d.finance_text
    assert "Only one can be paid" in d.family_text[0]
    # the very same claim again is a duplicate (rejected), not also a second journey
    assert check_claim(line(miles="20", claim_id="C-3"), SILENT, SESSION, TODAY, prior=first).codes == ("duplicate",)
    # another claimant (the supporter, driving separately), a rejected first claim, the same claim id: not held
    assert (
        check_claim(line(miles="30", claimant="sam@example.org"), SILENT, SESSION, TODAY, prior=first).status
        == "approved"
    )
    assert (
        check_claim(
            line(miles="30"), SILENT, SESSION, TODAY, prior=[prior("C-0", "mileage", 900, status="rejected")]
        ).status
        == "approved"
    )
    assert check_claim(line(miles="30", claim_id="C-0"), SILENT, SESSION, TODAY, prior=first).status == "approved"


@pytest.mark.parametrize(
    "paid_on, problem",
    [
        (date(2026, 12, 4), None),
        (date(2026, 11, 26), "before the claim was sent"),
        (date(2026, 12, 8), "in the future"),
        (date(2027, 6, 1), "in the future"),
    ],
)
def test_remittance_dates_must_fall_between_sending_and_today(paid_on, problem):
    found = remittance_problem(paid_on, date(2026, 11, 27), date(2026, 12, 7))
    assert (found is None) if problem is None else (problem in found)


def test_remittance_long_after_the_batch_is_refused_by_the_window():
    assert remittance_problem(date(2027, 6, 1), date(2026, 11, 27), date(2027, 7, 1)) is not None
    assert remittance_problem(date(2027, 6, 1), date(2026, 11, 27), date(2027, 7, 1), window_days=365) is None

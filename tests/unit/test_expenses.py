"""The expense policy check (law §5): pure, table-tested."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from models.domain.expenses import (
    ClaimLine,
    Policy,
    PriorClaim,
    check_claim,
    mileage_pence,
    policy_on,
    pounds,
    to_pence,
)

SESSION = date(2026, 11, 10)
TODAY = date(2026, 11, 20)
SALFORD = Policy(
    effective_from=date(2014, 9, 1), mileage_rate_pence=45, receipt_threshold_pence=1000, claim_window_days=90
)


def line(
    category="mileage",
    miles=None,
    amount=None,
    receipt=False,
    claim_id="C-1",
    claimant="pat@example.org",
    session_date=SESSION,
):
    return ClaimLine(
        claim_id=claim_id,
        category=category,
        session_date=session_date,
        claimant=claimant,
        miles=Decimal(miles) if miles is not None else None,
        amount_pence=amount,
        receipt=receipt,
    )


@pytest.mark.parametrize(
    "miles, rate, pence",
    [
        ("10", 45, 450),
        ("12.5", 45, 563),
        ("0.1", 45, 5),
        ("3.3", 45, 149),
        ("0.1", 25, 3),
        ("26.7", 40, 1068),
    ],
)
def test_mileage_is_miles_times_rate_rounded_half_up(miles, rate, pence):
    assert mileage_pence(Decimal(miles), rate) == pence


@pytest.mark.parametrize(
    "text, pence",
    [
        ("12.345", 1235),
        ("12.344", 1234),
        ("£1,200", 120000),
        ("0.005", 1),
        ("7", 700),
        (2.675, 268),
    ],
)
def test_pounds_to_pence_rounds_half_up(text, pence):
    assert to_pence(text) == pence


def test_to_pence_refuses_words():
    with pytest.raises(ValueError):
        to_pence("twelve")
    with pytest.raises(ValueError):
        to_pence("NaN")


def test_pounds_formats():
    assert pounds(123456) == "£1,234.56" and pounds(5) == "£0.05"


def test_mileage_within_policy_is_approved_at_the_la_rate():
    d = check_claim(line(miles="20.5"), [SALFORD], SESSION, TODAY)
    assert (d.status, d.amount_pence, d.rate_pence, d.reasons) == ("approved", 923, 45, ())


def test_rate_comes_from_the_policy_in_force_on_the_session_date():
    new = Policy(effective_from=date(2026, 11, 15), mileage_rate_pence=50)
    assert policy_on([SALFORD, new], SESSION) is SALFORD
    assert check_claim(line(miles="10"), [SALFORD, new], SESSION, TODAY).amount_pence == 450
    later = date(2026, 11, 16)
    assert check_claim(line(miles="10", session_date=later), [SALFORD, new], later, TODAY).amount_pence == 500


def test_receipt_needed_above_threshold_is_a_query_in_plain_words():
    d = check_claim(line("parking", amount=1200), SALFORD, SESSION, TODAY)
    assert d.status == "query" and d.codes == ("receipt-needed",)
    assert "receipt" in d.family_text[0] and "£12.00" in d.family_text[0] and "£10.00" in d.family_text[0]
    assert check_claim(line("parking", amount=1200, receipt=True), SALFORD, SESSION, TODAY).status == "approved"
    assert check_claim(line("parking", amount=1000), SALFORD, SESSION, TODAY).status == "approved"  # at the threshold


def test_mileage_needs_no_receipt_but_needs_miles():
    assert check_claim(line(miles="100"), SALFORD, SESSION, TODAY).status == "approved"
    d = check_claim(line(miles=None, amount=900), SALFORD, SESSION, TODAY)
    assert d.status == "query" and d.codes == ("miles-missing",)


def test_missing_amount_is_a_query():
    assert check_claim(line("meal", amount=None), SALFORD, SESSION, TODAY).codes == ("amount-missing",)


def test_late_claim_is_held_for_an_admin():
    d = check_claim(line(miles="10"), SALFORD, SESSION, date(2027, 2, 9))  # 91 days
    assert d.status == "held" and d.codes == ("outside-window",)
    assert check_claim(line(miles="10"), SALFORD, SESSION, date(2027, 2, 8)).status == "approved"  # day 90


def test_category_the_la_does_not_pay_is_held():
    policy = Policy(effective_from=date(2014, 9, 1), categories=("mileage", "parking"))
    d = check_claim(line("childcare", amount=500), policy, SESSION, TODAY)
    assert d.status == "held" and d.codes == ("category-not-paid",)


def test_caps_hold_the_claim():
    policy = Policy(effective_from=date(2014, 9, 1), per_claim_cap_pence=5000, category_caps_pence={"meal": 800})
    assert check_claim(line("meal", amount=900, receipt=True), policy, SESSION, TODAY).codes == ("over-category-cap",)
    assert check_claim(line(miles="200"), policy, SESSION, TODAY).codes == ("over-claim-cap",)
    assert check_claim(line("meal", amount=800, receipt=True), policy, SESSION, TODAY).status == "approved"


def test_drs_meeting_carries_no_expenses_duty():
    d = check_claim(line(miles="10"), SALFORD, SESSION, TODAY, service="drs")
    assert d.status == "rejected" and d.codes == ("drs-meeting",)
    assert "disagreement resolution" in d.family_text[0]


def test_duplicates_same_claimant_date_category_amount_are_rejected():
    prior = [PriorClaim("C-0", "pat@example.org", SESSION, "parking", 600, "approved")]
    d = check_claim(line("parking", amount=600, claim_id="C-9"), SALFORD, SESSION, TODAY, prior=prior)
    assert d.status == "rejected" and d.codes == ("duplicate",) and "C-0" in d.finance_text
    # a rejected earlier claim, a different amount or another claimant is not a duplicate
    assert (
        check_claim(
            line("parking", amount=600),
            SALFORD,
            SESSION,
            TODAY,
            prior=[PriorClaim("C-0", "pat@example.org", SESSION, "parking", 600, "rejected")],
        ).status
        == "approved"
    )
    assert check_claim(line("parking", amount=601), SALFORD, SESSION, TODAY, prior=prior).status == "approved"
    assert (
        check_claim(
            line("parking", amount=600, claimant="sam@example.org"), SALFORD, SESSION, TODAY, prior=prior
        ).status
        == "approved"
    )


def test_worst_outcome_wins_and_every_reason_is_listed():
    d = check_claim(line("parking", amount=5000), SALFORD, SESSION, date(2027, 6, 1), service="drs")
    assert d.status == "rejected"
    assert set(d.codes) == {"drs-meeting", "outside-window", "receipt-needed"}


def test_unknown_claimant_or_missing_policy_is_held():
    assert check_claim(line(miles="1"), SALFORD, SESSION, TODAY, claimant_is_party=False).codes == ("claimant-unknown",)
    assert check_claim(line(miles="1"), [], SESSION, TODAY).codes == ("no-policy",)


def test_future_meeting_is_rejected():
    assert check_claim(line(miles="1"), SALFORD, SESSION, date(2026, 11, 9)).codes == ("meeting-not-held",)

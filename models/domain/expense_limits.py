"""The sanity limits a claim line is checked against (README "Expense claims"), one function a
limit: beyond one, the claim is held for an admin, never paid as it stands. The LA's own limits
apply, else the built-in ones (`models.domain.expense_policy.DEFAULT_*`). Pure.
"""

from __future__ import annotations

from models.domain.expense_policy import HELD, Reason, miles_text, pounds
from models.domain.expense_rules import Facts, reason


def over_mileage_limit(f: Facts) -> Reason | None:
    miles, limit = f.claim.miles, f.limits.max_miles
    if f.claim.category != "mileage" or miles is None or miles <= limit:
        return None
    return reason(
        "over-mileage-limit",
        HELD,
        f"Your claim is for {miles_text(miles)} miles, more than the "
        f"{miles_text(limit)} miles we can pay for one meeting without a check. The "
        "team will look at it and let you know.",
        f"{miles_text(miles)} miles over the {miles_text(limit)}-mile limit for one meeting",
    )


def over_item_limit(f: Facts) -> Reason | None:
    limit = f.limits.max_item_pence
    if f.amount <= limit:
        return None
    return reason(
        "over-item-limit",
        HELD,
        f"Your claim for {f.words} ({pounds(f.amount)}) is more than the {pounds(limit)} "
        "we can pay for one item without a check. The team will look at it and let you know.",
        f"{pounds(f.amount)} over the {pounds(limit)} limit for one item",
    )


def over_meeting_limit(f: Facts) -> Reason | None:
    # the total counts what is on its way to payment; a claim held for an admin is not (yet), so
    # one absurd claim held does not hold the claimant's ordinary ones
    total = f.amount + sum(max(p.amount_pence, 0) for p in f.same_meeting if p.status != HELD)
    limit = f.limits.max_meeting_pence
    if total <= limit or f.amount > f.limits.max_item_pence:
        return None
    return reason(
        "over-meeting-limit",
        HELD,
        f"Your claims for this meeting come to {pounds(total)}, more than the "
        f"{pounds(limit)} we can pay for one meeting without a check. The "
        "team will look at them and let you know.",
        f"claims for this meeting total {pounds(total)}, over the {pounds(limit)} limit for one meeting",
    )


def second_mileage(f: Facts) -> Reason | None:
    if f.claim.category != "mileage" or f.duplicate is not None:
        return None
    other = next((p for p in f.same_meeting if p.category == "mileage"), None)
    if other is None:
        return None
    return reason(
        "second-mileage",
        HELD,
        f"We already have a mileage claim from you for this meeting (claim {other.claim_id}). "
        "Only one can be paid, so the team will check both and let you know.",
        f"a second mileage claim for the same meeting and claimant (claim {other.claim_id}): only one is paid",
    )

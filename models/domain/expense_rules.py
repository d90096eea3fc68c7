"""Each rule a claim line is checked against, one function a rule (`models.domain.expenses.check_claim`
runs them in the order of `RULES`). Pure: no I/O, no clock.

A rule reads the `Facts` of one claim and returns a `Reason` (its status: query, held or
rejected) or None when the claim passes it. The family's words and finance's words stay
together in the rule that gives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from models.domain.expense_policy import (
    CATEGORY_WORDS,
    DEAD_STATUSES,
    HELD,
    QUERY,
    REJECTED,
    ClaimLine,
    Policy,
    PriorClaim,
    Reason,
    mileage_pence,
    pounds,
)


def reason(code: str, status: str, family: str, finance: str) -> Reason:
    return Reason(code=code, family=family, finance=finance, status=status)


@dataclass(frozen=True)
class Facts:
    """What the rules know about one claim line."""

    claim: ClaimLine
    amount: int  # what would be paid (mileage: miles × rate)
    policy: Policy | None  # the LA's policy on the session date
    limits: Policy  # the sanity limits in force (the policy's, else the built-in ones)
    session_date: date
    today: date
    service: str
    claimant_is_party: bool
    duplicate: PriorClaim | None
    same_meeting: tuple[PriorClaim, ...]  # the claimant's other live claims for this meeting, the duplicate aside

    @property
    def words(self) -> str:
        return CATEGORY_WORDS.get(self.claim.category, self.claim.category)


def priced(claim: ClaimLine, rate: int | None) -> int:
    """What the claim line would pay: miles × rate for mileage (when both are known), else the amount asked."""
    if claim.category == "mileage" and claim.miles is not None and claim.miles > 0 and rate is not None:
        return mileage_pence(claim.miles, rate)
    return claim.amount_pence or 0


def live_same_meeting(claim: ClaimLine, prior: Iterable[PriorClaim]) -> list[PriorClaim]:
    """The claimant's other live claims for the same meeting."""
    return [
        p
        for p in prior
        if p.claim_id != claim.claim_id
        and p.status not in DEAD_STATUSES
        and p.claimant == claim.claimant
        and p.session_date == claim.session_date
    ]


def find_duplicate(claim: ClaimLine, amount_pence: int, prior: Iterable[PriorClaim]) -> PriorClaim | None:
    """A live earlier claim with the same claimant, session date, category and amount."""
    for other in prior:
        if other.claim_id == claim.claim_id or other.status in DEAD_STATUSES:
            continue
        if (
            other.claimant == claim.claimant
            and other.session_date == claim.session_date
            and other.category == claim.category
            and other.amount_pence == amount_pence
        ):
            return other
    return None


# -- what the family must send (query) ---------------------------------------------------------


def miles_missing(f: Facts) -> Reason | None:
    if f.claim.category != "mileage" or (f.claim.miles is not None and f.claim.miles > 0):
        return None
    return reason(
        "miles-missing",
        QUERY,
        "Please tell us how many miles you travelled to and from the meeting, so we can work out your mileage.",
        "mileage claim without miles",
    )


def amount_missing(f: Facts) -> Reason | None:
    if f.claim.category == "mileage" or (f.claim.amount_pence is not None and f.claim.amount_pence > 0):
        return None
    return reason("amount-missing", QUERY, f"Please tell us how much you spent on {f.words}.", "no amount claimed")


# -- never payable (rejected) ------------------------------------------------------------------


def drs_meeting(f: Facts) -> Reason | None:
    if f.service != "drs":
        return None
    return reason(
        "drs-meeting",
        REJECTED,
        "Travel and other expenses can be claimed for mediation meetings only. Your meeting was a "
        "disagreement resolution meeting, which the local authority does not have to pay expenses for.",
        "DRS meeting: no duty to pay expenses (CFA s.56 covers mediation only)",
    )


def meeting_not_held(f: Facts) -> Reason | None:
    if f.session_date <= f.today:
        return None
    return reason(
        "meeting-not-held",
        REJECTED,
        "Your claim is for a meeting that has not happened yet. Please claim after the meeting.",
        "session date is in the future",
    )


def duplicate(f: Facts) -> Reason | None:
    if f.duplicate is None:
        return None
    return reason(
        "duplicate",
        REJECTED,
        f"You have already claimed this ({f.words}, {pounds(f.amount)}) for the same meeting, "
        f"under claim {f.duplicate.claim_id}. We will deal with that claim; this copy will not be paid.",
        f"duplicate of claim {f.duplicate.claim_id}",
    )


# -- outside the LA's policy (held for an admin) -----------------------------------------------


def claimant_unknown(f: Facts) -> Reason | None:
    if f.claimant_is_party:
        return None
    return reason(
        "claimant-unknown",
        HELD,
        "We could not match your claim to the family or supporter named on the case. Someone from "
        "the team will check it and contact you.",
        "claimant is not the requester or the recorded supporter",
    )


def no_policy(f: Facts) -> Reason | None:
    if f.policy is not None:
        return None
    return reason(
        "no-policy",
        HELD,
        "We need to check your local authority's rules for this date. Someone from the team will contact you.",
        f"no expense policy in force on {f.session_date.isoformat()}",
    )


def category_not_paid(f: Facts) -> Reason | None:
    if f.policy is None or f.claim.category in f.policy.categories:
        return None
    return reason(
        "category-not-paid",
        HELD,
        f"Your local authority does not usually pay for {f.words}. We have asked the team to look "
        "at your claim and will let you know.",
        f"category {f.claim.category} not in the LA's policy",
    )


def outside_window(f: Facts) -> Reason | None:
    if f.policy is None:
        return None
    late_by = (f.today - f.session_date).days - f.policy.claim_window_days
    if late_by <= 0:
        return None
    return reason(
        "outside-window",
        HELD,
        f"Claims should reach us within {f.policy.claim_window_days} days of the meeting. Yours "
        "arrived later, so the team will look at it and let you know.",
        f"received {late_by} day(s) after the {f.policy.claim_window_days}-day window",
    )


def over_category_cap(f: Facts) -> Reason | None:
    cap = (f.policy.category_caps_pence or {}).get(f.claim.category) if f.policy else None
    if cap is None or f.amount <= int(cap):
        return None
    return reason(
        "over-category-cap",
        HELD,
        f"Your local authority usually pays up to {pounds(int(cap))} for {f.words}. The team will "
        "look at your claim and let you know.",
        f"{pounds(f.amount)} over the {f.claim.category} cap of {pounds(int(cap))}",
    )


def over_claim_cap(f: Facts) -> Reason | None:
    cap = f.policy.per_claim_cap_pence if f.policy else None
    if cap is None or f.amount <= cap:
        return None
    return reason(
        "over-claim-cap",
        HELD,
        f"Your local authority usually pays up to {pounds(cap)} a claim. "
        "The team will look at your claim and let you know.",
        f"{pounds(f.amount)} over the per-claim cap of {pounds(cap)}",
    )


def receipt_needed(f: Facts) -> Reason | None:
    if f.policy is None or f.claim.category == "mileage" or f.claim.receipt:
        return None
    threshold = f.policy.receipt_threshold_pence
    if f.amount <= threshold:
        return None
    return reason(
        "receipt-needed",
        QUERY,
        f"Please send us the receipt for your {f.words} ({pounds(f.amount)}). Your local authority "
        f"needs a receipt for anything over {pounds(threshold)}. You can "
        "reply to this email with a photo or scan of it.",
        f"no receipt above the {pounds(threshold)} threshold",
    )

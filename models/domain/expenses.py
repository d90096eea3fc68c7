"""Checking a family's expense claim against its LA's policy (law §5). Pure: no I/O, no clock.

CFA s.56(1)(g) and reg 41: the LA pays the family's (and their one supporter's) reasonable
expenses of attending *mediation* (SECONDARY, exact list UNVERIFIED); a disagreement-resolution
(DRS) meeting carries no such duty. How much and what for is each LA's policy, held as data with
an effective date (`Policy`); the policy in force on the *session date* applies.

`check_claim(claim, policies, session_date, today, ...)` returns a `Decision`:

- `rejected` — never payable: a DRS meeting, a duplicate, a meeting that has not happened yet.
- `held`     — outside policy, but an admin may still allow it: a category the LA does not pay,
               late (outside the claim window), over a cap, a claimant we cannot match to the
               family or their supporter, no policy for the date; beyond a sanity limit (miles
               for one meeting, amount for one item, one claimant's total for one meeting —
               the LA's own, else the built-in `DEFAULT_*`); a second mileage claim by the
               same claimant for the same meeting (one journey is paid once).
- `query`    — the family must send something: a receipt above the LA's threshold, the miles, or
               the amount.
- `approved` — within policy; `amount_pence` is what finance pays.

Worst wins (rejected > held > query > approved); every reason found is listed, each in plain
words for the family and tersely for finance. Money is integer pence; mileage is
miles × the LA's pence-per-mile, rounded half up to a whole penny. Receipts are asked for on
costs (not on mileage, which is priced by the rate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from models.domain.vocabulary import CLAIM_CATEGORIES

APPROVED, QUERY, HELD, REJECTED = "approved", "query", "held", "rejected"
_SEVERITY = {APPROVED: 0, QUERY: 1, HELD: 2, REJECTED: 3}
#: statuses that no longer count as a live claim for duplicate detection
DEAD_STATUSES = frozenset({REJECTED})

CATEGORY_WORDS = {
    "mileage": "mileage",
    "public_transport": "public transport",
    "parking": "parking",
    "childcare": "childcare",
    "dependant_care": "care for a dependant",
    "meal": "meals",
    "other": "other costs",
}


def pounds(pence: int) -> str:
    """'£12.35' from 1235."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def to_pence(pounds_value: str | int | float | Decimal) -> int:
    """An amount in pounds ('12.345', 12.3, '£1,200') as whole pence, rounded half up.

    Raises `ValueError` when it is not a number. Floats go through their shortest repr, so
    12.345 is treated as written.
    """
    text = str(pounds_value).strip().replace("£", "").replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{pounds_value!r} is not an amount in pounds") from None
    if not value.is_finite():
        raise ValueError(f"{pounds_value!r} is not an amount in pounds")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


_POUNDS_TEXT = re.compile(r"£?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


def amount_problem(value) -> str | None:
    """Why a claimed amount is not money as a person writes it (value-free), or None: at most one
    £, thousands grouped in threes, at most two decimal places (no fractions of a penny, no
    exponent). `to_pence` alone rounds whatever it is given; a claim must not be rounded into
    something nobody wrote ('1,2,3' is not £123, '4.505' is not £4.51)."""
    if isinstance(value, bool):
        return "is not an amount in pounds"
    if isinstance(value, (int, float, Decimal)):  # a number cell of a workbook
        try:
            number = Decimal(repr(round(value, 9))) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, ValueError, OverflowError):
            return "is not an amount in pounds"
        if not number.is_finite():
            return "is not an amount in pounds"
        if number != number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
            return "has fractions of a penny (at most 2 decimal places)"
        return None
    text = str(value).strip()
    if _POUNDS_TEXT.fullmatch(text):
        return None
    if re.fullmatch(r"£?\s?[\d,]*\.\d{3,}", text):
        return "has fractions of a penny (at most 2 decimal places)"
    return "is not an amount in pounds (write it like 4.50, £24.00 or 1,200)"


def mileage_pence(miles: Decimal, rate_pence: int) -> int:
    """miles × rate (pence per mile), rounded half up to a whole penny."""
    return int((Decimal(miles) * rate_pence).quantize(Decimal(1), rounding=ROUND_HALF_UP))


#: Built-in sanity limits, used when the LA's register row gives none (README "Expense claims").
#: Beyond any of them a claim is held for an admin, never paid as it stands.
DEFAULT_MAX_MILES = Decimal(300)  # miles on one mileage claim (the round trip to one meeting)
DEFAULT_MAX_ITEM_PENCE = 50_000  # £500 on one claim line
DEFAULT_MAX_MEETING_PENCE = 100_000  # £1,000: one claimant's claims for one meeting, together
DEFAULT_REMITTANCE_DAYS = 180  # a remittance's paid_on date within 180 days after the claim was sent


@dataclass(frozen=True)
class Policy:
    """An LA's expense policy from `effective_from` on (a pure copy of the `LaPolicy` row).

    The `max_*` limits and `remittance_days` are sanity limits: the built-in defaults apply where
    the LA's register row is silent."""

    effective_from: date
    mileage_rate_pence: int = 45
    receipt_threshold_pence: int = 1000
    claim_window_days: int = 90
    categories: tuple[str, ...] = CLAIM_CATEGORIES
    per_claim_cap_pence: int | None = None
    category_caps_pence: Mapping[str, int] = field(default_factory=dict)
    max_miles: Decimal = DEFAULT_MAX_MILES
    max_item_pence: int = DEFAULT_MAX_ITEM_PENCE
    max_meeting_pence: int = DEFAULT_MAX_MEETING_PENCE
    remittance_days: int = DEFAULT_REMITTANCE_DAYS


BUILT_IN_LIMITS = Policy(effective_from=date.min)


def miles_text(miles: Decimal) -> str:
    """'12.5' from Decimal('12.50'); thousands separated ('9,999,999')."""
    text = f"{Decimal(miles):,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def policy_on(policies: Iterable[Policy], day: date) -> Policy | None:
    """The policy in force on `day`: the latest whose `effective_from` is on or before it."""
    in_force = [p for p in policies if p.effective_from <= day]
    return max(in_force, key=lambda p: p.effective_from) if in_force else None


@dataclass(frozen=True)
class ClaimLine:
    """One claim line as submitted (`amount_pence` is what the family asked for, if given)."""

    claim_id: str
    category: str
    session_date: date
    claimant: str  # normalised key: the claimant's email in lower case (or name when no email)
    miles: Decimal | None = None
    amount_pence: int | None = None
    receipt: bool = False


@dataclass(frozen=True)
class PriorClaim:
    """A claim already on record, for duplicate detection."""

    claim_id: str
    claimant: str
    session_date: date
    category: str
    amount_pence: int
    status: str


@dataclass(frozen=True)
class Reason:
    code: str
    family: str  # plain words, to the family: what happened and what to do
    finance: str  # terse, for the team and finance; no personal data
    status: str


@dataclass(frozen=True)
class Decision:
    status: str  # approved | query | held | rejected
    amount_pence: int  # what would be paid (mileage: miles × rate)
    rate_pence: int | None  # pence per mile for mileage, else None
    reasons: tuple[Reason, ...] = ()

    @property
    def family_text(self) -> list[str]:
        return [r.family for r in self.reasons]

    @property
    def finance_text(self) -> str:
        return "; ".join(r.finance for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def _reason(code: str, status: str, family: str, finance: str) -> Reason:
    return Reason(code=code, family=family, finance=finance, status=status)


def _live_same_meeting(claim: ClaimLine, prior: Iterable[PriorClaim]) -> list[PriorClaim]:
    return [
        p
        for p in prior
        if p.claim_id != claim.claim_id
        and p.status not in DEAD_STATUSES
        and p.claimant == claim.claimant
        and p.session_date == claim.session_date
    ]


def _limit_reasons(
    claim: ClaimLine, amount: int, limits: Policy, prior: list[PriorClaim], duplicate: PriorClaim | None
) -> list[Reason]:
    """The sanity limits (held when beyond them) and a second mileage claim for one meeting."""
    reasons: list[Reason] = []
    words = CATEGORY_WORDS.get(claim.category, claim.category)
    if claim.category == "mileage" and claim.miles is not None and claim.miles > limits.max_miles:
        reasons.append(
            _reason(
                "over-mileage-limit",
                HELD,
                f"Your claim is for {miles_text(claim.miles)} miles, more than the "
                f"{miles_text(limits.max_miles)} miles we can pay for one meeting without a check. The "
                "team will look at it and let you know.",
                f"{miles_text(claim.miles)} miles over the {miles_text(limits.max_miles)}-mile limit for one meeting",
            )
        )
    if amount > limits.max_item_pence:
        reasons.append(
            _reason(
                "over-item-limit",
                HELD,
                f"Your claim for {words} ({pounds(amount)}) is more than the {pounds(limits.max_item_pence)} "
                "we can pay for one item without a check. The team will look at it and let you know.",
                f"{pounds(amount)} over the {pounds(limits.max_item_pence)} limit for one item",
            )
        )
    same_meeting = [p for p in prior if p is not duplicate]
    # the total counts what is on its way to payment; a claim held for an admin is not (yet), so
    # one absurd claim held does not hold the claimant's ordinary ones
    total = amount + sum(max(p.amount_pence, 0) for p in same_meeting if p.status != HELD)
    if total > limits.max_meeting_pence and amount <= limits.max_item_pence:
        reasons.append(
            _reason(
                "over-meeting-limit",
                HELD,
                f"Your claims for this meeting come to {pounds(total)}, more than the "
                f"{pounds(limits.max_meeting_pence)} we can pay for one meeting without a check. The "
                "team will look at them and let you know.",
                f"claims for this meeting total {pounds(total)}, over the "
                f"{pounds(limits.max_meeting_pence)} limit for one meeting",
            )
        )
    if claim.category == "mileage" and duplicate is None:
        other = next((p for p in same_meeting if p.category == "mileage"), None)
        if other is not None:
            reasons.append(
                _reason(
                    "second-mileage",
                    HELD,
                    f"We already have a mileage claim from you for this meeting (claim {other.claim_id}). "
                    "Only one can be paid, so the team will check both and let you know.",
                    f"a second mileage claim for the same meeting and claimant (claim {other.claim_id}): "
                    "only one is paid",
                )
            )
    return reasons


def remittance_problem(
    paid_on: date, sent_on: date, today: date, window_days: int = DEFAULT_REMITTANCE_DAYS
) -> str | None:
    """Why an LA's remittance date cannot be right, or None: it may not be in the future, before
    the claim was sent to the LA (`sent_on`), or more than `window_days` after that."""
    if paid_on > today:
        return f"paid_on {paid_on.isoformat()} is in the future"
    if paid_on < sent_on:
        return f"paid_on {paid_on.isoformat()} is before the claim was sent to the local authority on {sent_on.isoformat()}"
    if (paid_on - sent_on).days > window_days:
        return (
            f"paid_on {paid_on.isoformat()} is more than {window_days} days after the claim was sent to the local "
            f"authority on {sent_on.isoformat()}"
        )
    return None


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


def check_claim(
    claim: ClaimLine,
    policies: Sequence[Policy] | Policy | None,
    session_date: date,
    today: date,
    *,
    service: str = "mediation",
    claimant_is_party: bool = True,
    prior: Iterable[PriorClaim] = (),
) -> Decision:
    """Decide one claim line (see the module docstring). `today` is the day it is checked
    (received); `session_date` the day the meeting took place; `prior` the claims already on
    record (for duplicates); `claimant_is_party` whether the claimant is the case's requester or
    their recorded supporter."""
    if isinstance(policies, Policy):
        policies = [policies]
    policy = policy_on(policies or (), session_date)
    reasons: list[Reason] = []
    words = CATEGORY_WORDS.get(claim.category, claim.category)

    rate = policy.mileage_rate_pence if policy and claim.category == "mileage" else None
    if claim.category == "mileage":
        if claim.miles is None or claim.miles <= 0:
            amount = claim.amount_pence or 0
            reasons.append(
                _reason(
                    "miles-missing",
                    QUERY,
                    "Please tell us how many miles you travelled to and from the meeting, so we can work out your mileage.",
                    "mileage claim without miles",
                )
            )
        elif rate is None:
            amount = claim.amount_pence or 0
        else:
            amount = mileage_pence(claim.miles, rate)
    else:
        amount = claim.amount_pence or 0
        if claim.amount_pence is None or claim.amount_pence <= 0:
            reasons.append(
                _reason("amount-missing", QUERY, f"Please tell us how much you spent on {words}.", "no amount claimed")
            )

    if service == "drs":
        reasons.append(
            _reason(
                "drs-meeting",
                REJECTED,
                "Travel and other expenses can be claimed for mediation meetings only. Your meeting was a "
                "disagreement resolution meeting, which the local authority does not have to pay expenses for.",
                "DRS meeting: no duty to pay expenses (CFA s.56 covers mediation only)",
            )
        )
    if session_date > today:
        reasons.append(
            _reason(
                "meeting-not-held",
                REJECTED,
                "Your claim is for a meeting that has not happened yet. Please claim after the meeting.",
                "session date is in the future",
            )
        )
    prior = list(prior)
    dupe = find_duplicate(claim, amount, prior)
    if dupe is not None:
        reasons.append(
            _reason(
                "duplicate",
                REJECTED,
                f"You have already claimed this ({words}, {pounds(amount)}) for the same meeting, "
                f"under claim {dupe.claim_id}. We will deal with that claim; this copy will not be paid.",
                f"duplicate of claim {dupe.claim_id}",
            )
        )

    if not claimant_is_party:
        reasons.append(
            _reason(
                "claimant-unknown",
                HELD,
                "We could not match your claim to the family or supporter named on the case. Someone from "
                "the team will check it and contact you.",
                "claimant is not the requester or the recorded supporter",
            )
        )
    if policy is None:
        reasons.append(
            _reason(
                "no-policy",
                HELD,
                "We need to check your local authority's rules for this date. Someone from the team will contact you.",
                f"no expense policy in force on {session_date.isoformat()}",
            )
        )
    else:
        if claim.category not in policy.categories:
            reasons.append(
                _reason(
                    "category-not-paid",
                    HELD,
                    f"Your local authority does not usually pay for {words}. We have asked the team to look "
                    "at your claim and will let you know.",
                    f"category {claim.category} not in the LA's policy",
                )
            )
        late_by = (today - session_date).days - policy.claim_window_days
        if late_by > 0:
            reasons.append(
                _reason(
                    "outside-window",
                    HELD,
                    f"Claims should reach us within {policy.claim_window_days} days of the meeting. Yours "
                    "arrived later, so the team will look at it and let you know.",
                    f"received {late_by} day(s) after the {policy.claim_window_days}-day window",
                )
            )
        cap = (policy.category_caps_pence or {}).get(claim.category)
        if cap is not None and amount > int(cap):
            reasons.append(
                _reason(
                    "over-category-cap",
                    HELD,
                    f"Your local authority usually pays up to {pounds(int(cap))} for {words}. The team will "
                    "look at your claim and let you know.",
                    f"{pounds(amount)} over the {claim.category} cap of {pounds(int(cap))}",
                )
            )
        if policy.per_claim_cap_pence is not None and amount > policy.per_claim_cap_pence:
            reasons.append(
                _reason(
                    "over-claim-cap",
                    HELD,
                    f"Your local authority usually pays up to {pounds(policy.per_claim_cap_pence)} a claim. "
                    "The team will look at your claim and let you know.",
                    f"{pounds(amount)} over the per-claim cap of {pounds(policy.per_claim_cap_pence)}",
                )
            )
        if claim.category != "mileage" and not claim.receipt and amount > policy.receipt_threshold_pence:
            reasons.append(
                _reason(
                    "receipt-needed",
                    QUERY,
                    f"Please send us the receipt for your {words} ({pounds(amount)}). Your local authority "
                    f"needs a receipt for anything over {pounds(policy.receipt_threshold_pence)}. You can "
                    "reply to this email with a photo or scan of it.",
                    f"no receipt above the {pounds(policy.receipt_threshold_pence)} threshold",
                )
            )

    reasons += _limit_reasons(claim, amount, policy or BUILT_IN_LIMITS, _live_same_meeting(claim, prior), dupe)

    status = max((r.status for r in reasons), key=_SEVERITY.__getitem__, default=APPROVED)
    return Decision(status=status, amount_pence=amount, rate_pence=rate, reasons=tuple(reasons))

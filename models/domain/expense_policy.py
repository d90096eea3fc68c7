"""The values of expense checking: money, miles, an LA's policy, a claim line and a decision.

Pure: no I/O, no clock. `models.domain.expenses` checks a claim with them (its docstring says how);
`models.domain.expense_rules` holds each rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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


def amount_problem(value: object) -> str | None:
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


def worst(statuses: Iterable[str]) -> str:
    """The most severe status (rejected > held > query > approved); approved when there is none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=APPROVED)

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

Each rule is one function (`models.domain.expense_rules`, the sanity limits in
`models.domain.expense_limits`), run in the order of `RULES`; the values (money, `Policy`,
`ClaimLine`, `Decision`) are in `models.domain.expense_policy` and importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date

from models.domain.expense_limits import over_item_limit, over_meeting_limit, over_mileage_limit, second_mileage
from models.domain.expense_policy import (
    APPROVED,
    BUILT_IN_LIMITS,
    CATEGORY_WORDS,
    DEAD_STATUSES,
    DEFAULT_MAX_ITEM_PENCE,
    DEFAULT_MAX_MEETING_PENCE,
    DEFAULT_MAX_MILES,
    DEFAULT_REMITTANCE_DAYS,
    HELD,
    QUERY,
    REJECTED,
    ClaimLine,
    Decision,
    Policy,
    PriorClaim,
    Reason,
    amount_problem,
    mileage_pence,
    miles_text,
    policy_on,
    pounds,
    remittance_problem,
    to_pence,
    worst,
)
from models.domain.expense_rules import (
    Facts,
    amount_missing,
    category_not_paid,
    claimant_unknown,
    drs_meeting,
    duplicate,
    find_duplicate,
    live_same_meeting,
    meeting_not_held,
    miles_missing,
    no_policy,
    outside_window,
    over_category_cap,
    over_claim_cap,
    priced,
    receipt_needed,
)

#: Every rule, in the order its reasons are listed (the family reads them in this order).
RULES: tuple[Callable[[Facts], Reason | None], ...] = (
    miles_missing,
    amount_missing,
    drs_meeting,
    meeting_not_held,
    duplicate,
    claimant_unknown,
    no_policy,
    category_not_paid,
    outside_window,
    over_category_cap,
    over_claim_cap,
    receipt_needed,
    over_mileage_limit,
    over_item_limit,
    over_meeting_limit,
    second_mileage,
)


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
    policy = policy_on([policies] if isinstance(policies, Policy) else policies or (), session_date)
    rate = policy.mileage_rate_pence if policy and claim.category == "mileage" else None
    amount = priced(claim, rate)
    prior = list(prior)
    dupe = find_duplicate(claim, amount, prior)
    facts = Facts(
        claim=claim,
        amount=amount,
        policy=policy,
        limits=policy or BUILT_IN_LIMITS,
        session_date=session_date,
        today=today,
        service=service,
        claimant_is_party=claimant_is_party,
        duplicate=dupe,
        same_meeting=tuple(p for p in live_same_meeting(claim, prior) if p is not dupe),
    )
    reasons = tuple(r for r in (rule(facts) for rule in RULES) if r is not None)
    return Decision(status=worst(r.status for r in reasons), amount_pence=amount, rate_pence=rate, reasons=reasons)


__all__ = [
    "APPROVED",
    "BUILT_IN_LIMITS",
    "CATEGORY_WORDS",
    "DEAD_STATUSES",
    "DEFAULT_MAX_ITEM_PENCE",
    "DEFAULT_MAX_MEETING_PENCE",
    "DEFAULT_MAX_MILES",
    "DEFAULT_REMITTANCE_DAYS",
    "HELD",
    "QUERY",
    "REJECTED",
    "RULES",
    "ClaimLine",
    "Decision",
    "Policy",
    "PriorClaim",
    "Reason",
    "amount_problem",
    "check_claim",
    "find_duplicate",
    "mileage_pence",
    "miles_text",
    "policy_on",
    "pounds",
    "remittance_problem",
    "to_pence",
]

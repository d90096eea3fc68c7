"""The plain-words emails to a family about their expense claim (queried, rejected, refused, sent, paid)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim
from models.domain.expenses import CATEGORY_WORDS, pounds
from tasks.mail.layout import long_date, render_email
from tasks.mail.outbox import queue_email
from tasks.privacy.keys import address_token

FAMILY_HEADINGS = {
    "query": (
        "We need a little more information about your expense claim",
        "Expense claim for case {ref}: we need more information",
    ),
    "rejected": ("We cannot pass on your expense claim", "Expense claim for case {ref}: not accepted"),
    "refused": ("Your expense claim has not been approved", "Expense claim for case {ref}: not approved"),
    "sent": (
        "Your expense claim has been sent to your local authority",
        "Expense claim for case {ref}: sent to the local authority",
    ),
    "paid": ("Your expense claim has been paid", "Expense claim for case {ref}: paid"),
}


def tell_family(
    db: Session, claim: ExpenseClaim, case: Case, what: str, lines: list[str], now: datetime, *, key_suffix: str = ""
) -> None:
    """Queue the plain-words email about `claim` to the claimant (or the requester)."""
    to = claim.claimant_email or case.requester_email
    if not to:
        return
    heading, subject = FAMILY_HEADINGS[what]
    la_name = case.local_authority.name if case.local_authority else "your local authority"
    words = CATEGORY_WORDS.get(claim.category, claim.category)
    amount = f" ({pounds(claim.amount_pence)})" if claim.amount_pence else ""
    opening = (
        f"This is about your claim for {words}{amount} for the mediation meeting on "
        f"{long_date(claim.session_date)}. Your claim reference is {claim.claim_id}."
    )
    paragraphs: list = [opening]
    if what == "query":
        paragraphs += [lines, f"When we have this, we will check your claim again and send it to {la_name} to pay."]
    elif what in ("rejected", "refused"):
        paragraphs += [
            lines or ["It is outside what your local authority pays for."],
            "If you think this is wrong, please reply to this email and tell us why.",
        ]
    elif what == "sent":
        paragraphs += [
            f"We have checked your claim and sent it to {la_name}'s finance team, who will pay you. "
            "We will email you again when they tell us it has been paid."
        ]
    elif what == "paid":
        paragraphs += lines
    text_body, html = render_email(heading, paragraphs)
    queue_email(
        db,
        key=f"claim-{what}:{claim.claim_id}:{key_suffix}"[:200],
        kind=f"claim-{what}",
        to=to,
        subject=subject.format(ref=case.ref),
        text=text_body,
        html=html,
        now=now,
        case_id=case.id,
    )


def tell_families_sent(
    db: Session, claims: list[ExpenseClaim], cases: dict[int, Case], la_name: str, batch_ref: str, now: datetime
) -> None:
    """One email per claimant in the batch, listing their claims sent to the LA."""
    groups: dict[tuple[int, str], list[ExpenseClaim]] = defaultdict(list)
    for c in claims:
        to = c.claimant_email or cases[c.case_id].requester_email
        if to:
            groups[(c.case_id, to.lower())].append(c)
    for (case_id, to), items in groups.items():
        case = cases[case_id]
        listed = [
            f"{CATEGORY_WORDS.get(c.category, c.category).capitalize()} for the meeting on "
            f"{long_date(c.session_date)}: {pounds(c.amount_pence)} (claim {c.claim_id})"
            for c in items
        ]
        text_body, html = render_email(
            FAMILY_HEADINGS["sent"][0],
            [
                f"We have checked your expense claim{'s' if len(items) > 1 else ''} and sent "
                f"{'them' if len(items) > 1 else 'it'} to {la_name}'s finance team, who will pay you:",
                listed,
                f"Total: {pounds(sum(c.amount_pence for c in items))}.",
                "We will email you again when they tell us it has been paid. You do not need to do anything now.",
            ],
        )
        queue_email(
            db,
            key=f"claim-sent:{batch_ref}:{case.ref}:{address_token(to)}",
            kind="claim-sent",
            to=to,
            subject=FAMILY_HEADINGS["sent"][1].format(ref=case.ref),
            text=text_body,
            html=html,
            now=now,
            case_id=case.id,
        )

"""The bounce-check job, once: `run(today, now, *, step, wiring) -> BounceCheckSummary`.

Three steps, each called through `step` (`tasks.steps`): read the bounce mailbox and record what
each notice says (`read-bounce-mailbox`), make soft bounces still failing after 3 working days
contact problems and settle corrected LA addresses (`promote-soft-bounces`), and list the open
contact problems (`list-contact-problems`, references only). The flow `bounce-check` runs it with
`flows.steps.as_task`, then publishes the `bounce-check` artifact and the `today` screen; `drs
mail bounces` with no Prefect server runs it with plain calls, and the summary says those two
were skipped. Raises `BounceMailboxError` when a mailbox cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tasks.bounces.mailbox import list_contact_problems, promote_soft_bounces, read_bounce_mailbox
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: What only a Prefect run does (the direct path names them in `skipped`).
PREFECT_ONLY = ("dashboard artifact bounce-check", "today screen")


@dataclass(frozen=True)
class BounceCheckSummary:
    """What one bounce check read and changed (counts, case references, open problems)."""

    read: int = 0
    bounces: int = 0
    hard: int = 0
    soft: int = 0
    escalated: int = 0
    not_bounces: int = 0
    unmatched: int = 0
    promoted: int = 0
    la_settled: int = 0
    sources: tuple[str, ...] = ()
    case_refs: tuple[str, ...] = ()
    contact_problems: tuple[dict[str, Any], ...] = ()
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The `drs mail bounces --json` / flow return contract (`skipped` is not part of it)."""
        return {
            "read": self.read,
            "bounces": self.bounces,
            "hard": self.hard,
            "soft": self.soft,
            "escalated": self.escalated,
            "not_bounces": self.not_bounces,
            "unmatched": self.unmatched,
            "promoted": self.promoted,
            "la_settled": self.la_settled,
            "sources": list(self.sources),
            "case_refs": list(self.case_refs),
            "contact_problems": [dict(p) for p in self.contact_problems],
        }


def run(
    today: date | None,
    now: datetime,
    *,
    sources: list[Any] | None = None,
    step: Step = call,
    wiring: Wiring | None = None,
) -> BounceCheckSummary:
    """Check the bounce mailbox at `now`. `sources`: read these instead of the configured ones
    (tests). `today` is not needed (every rule works from `now`); it is taken for the common
    job shape."""
    with wired(wiring):
        reading = step(read_bounce_mailbox, now, sources)
        promotion = step(promote_soft_bounces, now)
        problems = step(list_contact_problems)
    refs = list(reading.case_refs)
    refs += [ref for ref in promotion.case_refs if ref not in refs]
    return BounceCheckSummary(
        read=reading.read,
        bounces=reading.bounces,
        hard=reading.hard,
        soft=reading.soft,
        escalated=reading.escalated + promotion.escalated,
        not_bounces=reading.not_bounces,
        unmatched=reading.unmatched,
        promoted=promotion.promoted,
        la_settled=promotion.la_settled,
        sources=tuple(reading.sources),
        case_refs=tuple(refs),
        contact_problems=tuple(problems),
        skipped=PREFECT_ONLY if step is call else (),
    )

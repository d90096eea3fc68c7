"""The session reminders job, once: `run(today, now, *, before, step, wiring) -> RemindersSummary`.

Two steps, each called through `step` (`tasks.steps`): find the scheduled meetings close enough
to `now` to owe a reminder or an outcome nudge (`find-due-meetings`), then queue what is due for
each (`queue-due-reminders`, exactly once per session, attendee, kind and session version; quiet
hours honoured). Delivery is the outbox's job. The flow `session-reminders` runs it with
`flows.steps.as_task` and then publishes the `session-reminders` artifact; `drs remind` with no
Prefect server runs it with plain calls, and the summary says the artifact was skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from models.domain.session_reminders import ReminderPolicy
from tasks.sessions.reminders import ReminderCounts, find_due_meetings, queue_due_reminders
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: What only a Prefect run does (the direct path names them in `skipped`).
PREFECT_ONLY = ("dashboard artifact session-reminders",)


@dataclass(frozen=True)
class RemindersSummary:
    """What one run queued (counts only, no personal data)."""

    now: datetime
    checked: int
    queued: int
    already_queued: int
    superseded: int
    deferred: int
    by_kind: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The `drs remind --json` / flow return contract (`skipped` is not part of it)."""
        return {
            "now": self.now.isoformat(),
            "checked": self.checked,
            "queued": self.queued,
            "already_queued": self.already_queued,
            "superseded": self.superseded,
            "deferred": self.deferred,
            "by_kind": dict(self.by_kind),
        }


def run(
    today: date | None,
    now: datetime,
    *,
    before: Sequence[str] | None = None,
    step: Step = call,
    wiring: Wiring | None = None,
) -> RemindersSummary:
    """Queue the reminders and nudges due at `now` (aware). `before`: reminder offsets such as
    ['7d', '1wd'] (the default). Raises `ValueError` for a bad offset, before anything is read.
    `today` is not needed (every rule works from `now`); it is taken for the common job shape."""
    policy = ReminderPolicy.from_texts(before)
    with wired(wiring):
        ids = step(find_due_meetings, now, policy)
        # nothing due (an idle run): no second step, the same counts (all zero)
        counts = step(queue_due_reminders, now, ids, policy) if ids else ReminderCounts()
    return RemindersSummary(
        now=now,
        checked=len(ids),
        queued=counts.queued,
        already_queued=counts.already_queued,
        superseded=counts.superseded,
        deferred=counts.deferred,
        by_kind=MappingProxyType(dict(counts.by_kind)),
        skipped=PREFECT_ONLY if step is call else (),
    )

"""The email-delivery job: ONE orchestrator for the `deliver-email` flow and `drs mail deliver`.

    summary = run(today, now, retry_waiting=True, step=call)   # drs mail deliver, no Prefect server
    summary = run(today, now, step=flows.steps.as_task)        # the deliver-email flow (hourly sweep)

One step: send everything due at `now` and count what is still waiting
(`tasks.mail.delivery.deliver_pending`). The flow adds nothing after it (its only Prefect-only
extra is the team's email when a run fails, a flow hook), so the direct path skips nothing.

The `deliver-outbox-batch` background task (`flows.delivery`) is not this job: it sends given
outbox ids (`tasks.mail.delivery.deliver_ids`) as soon as they are queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tasks.mail.delivery import deliver_pending
from tasks.mail.mailer import Mailer
from tasks.steps import Step, call
from tasks.wiring import Wiring, wired

#: What the flow does after the orchestrator and the direct path does not: nothing.
SKIPPED_DIRECT: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliverySummary:
    """What one delivery run did. `as_dict()` is exactly `drs mail deliver --json` and the flow's return."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    remaining: int = 0  # still pending or being sent after the run
    skipped: tuple[str, ...] = ()  # Prefect-only extras this run did not do

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed, "remaining": self.remaining}


def run(
    today: date | None,
    now: datetime,
    *,
    retry_waiting: bool = False,
    step: Step = call,
    wiring: Wiring | None = None,
    mailer: Mailer | None = None,
) -> DeliverySummary:
    """Deliver the outbox as of `now`. `retry_waiting` (a person asked for delivery now) also
    retries emails still waiting for their back-off; quiet-hours holds are kept either way.
    `today` is not needed (delivery works from `now`); it is taken for the common job shape."""
    with wired(wiring):
        counts = step(deliver_pending, now, retry_waiting=retry_waiting, mailer=mailer)
    return DeliverySummary(
        counts.sent,
        counts.retrying,
        counts.failed,
        counts.remaining,
        skipped=SKIPPED_DIRECT if step is call else (),
    )

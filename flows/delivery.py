"""Email delivery: the `deliver-email` sweep and the `deliver-outbox-batch` background task.

The outbox table is the source of truth (`tasks.mail.delivery`). Two ways deliver it:

- `deliver_outbox_batch` is a Prefect background task: flows that queue emails call
  `enqueue_delivery(ids)`, which `.delay()`s it once per batch of outbox ids (each `.delay`
  costs ~150-200 ms, so never one per email). Task workers serve it — `drs worker tasks` on each
  machine (README, "More machines"), or `drs serve` on one — and more workers on more machines
  deliver more mail. (Workers on other machines need the same database and Prefect's result
  storage shared, since `.delay` stores the task's parameters there.)
- `deliver_email` (deployment `deliver-email`, hourly) sends whatever is due: rows whose
  background task was lost, retries after back-off, mail queued by commands run without Prefect.
  Its work is the delivery job (`tasks.mail.job.run`), each step a task.

Run once by hand: `drs mail deliver` (the same job, in-process; never needs a task worker).
"""

from __future__ import annotations

import logging
from datetime import datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.hooks import notify_team_of_failure
from flows.parameters import plain_parameters
from flows.steps import as_task

log = logging.getLogger(__name__)
BATCH_SIZE = 100


@task(name="deliver-outbox-batch", cache_policy=NO_CACHE)
def deliver_outbox_batch(ids: list[int]) -> dict[str, int]:
    """Send the outbox rows `ids` that are still due now (others were sent or claimed already)."""
    from tasks.mail.delivery import deliver_ids
    from tasks.timekeeping import resolve_now

    _, now = resolve_now()
    return deliver_ids(list(ids), now).as_dict()


def enqueue_delivery(ids: list[int], batch_size: int = BATCH_SIZE) -> int:
    """`.delay()` delivery of `ids` in batches; returns how many batches were queued.

    Never raises: if the queue is unavailable the rows stay pending and the `deliver-email`
    sweep sends them within a minute.
    """
    batches = 0
    for start in range(0, len(ids), batch_size):
        try:
            deliver_outbox_batch.delay(list(ids[start : start + batch_size]))
        except Exception as exc:  # the database, not the queue, is the source of truth
            log.warning("could not queue email delivery (%s); the deliver-email sweep will send it", type(exc).__name__)
            break
        batches += 1
    return batches


def serve_delivery_worker(timeout: float | None = None) -> None:
    """Run a task worker for `deliver-outbox-batch` until interrupted, or for `timeout` seconds
    (blocks; from the main thread it also stops cleanly on SIGTERM)."""
    from prefect.task_worker import serve

    serve(deliver_outbox_batch, timeout=timeout)


@plain_parameters
@flow(name="deliver-email", on_failure=[notify_team_of_failure], on_crashed=[notify_team_of_failure])
def deliver_email(now: datetime | None = None, retry_waiting: bool = False) -> dict[str, int]:
    """Deliver the outbox now: every email due is sent, failures are recorded for retry.

    Args:
        now: the moment to deliver as of (ISO-8601 with offset; default: now).
        retry_waiting: also retry emails still waiting for their back-off after a failure
            (`drs mail deliver` sets it: a person asked for delivery now); the schedule leaves it off.
    """
    from tasks.mail import job
    from tasks.timekeeping import resolve_now

    day, moment = resolve_now(now)
    return job.run(day, moment, retry_waiting=retry_waiting, step=as_task).as_dict()

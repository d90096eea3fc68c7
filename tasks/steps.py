"""How a job calls its steps: the one seam between a job's orchestrator and Prefect.

Every job has ONE orchestrator, a plain function in its capability's package (for example
`tasks.deadlines.job.run(today, now, *, step)`), that calls each of its steps through `step`:

    refreshed = step(refresh_clocks, today, now)

- The Prefect flow passes `flows.steps.as_task`: each step runs as a task (NO_CACHE), so the
  dashboard shows it, with its state and logs; Prefect-only extras (artifacts, pauses for a form)
  stay in the flow, after the orchestrator returns.
- The CLI with no Prefect server passes `call`: the same steps, as plain calls. The summary says
  which Prefect-only extras the direct path skipped (`skipped`).

A test runs every job both ways on the same data and compares the summaries and the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Step(Protocol):
    """Runs one step of a job: `step(fn, *args, **kwargs)` returns `fn(*args, **kwargs)`."""

    def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def call(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """The direct path: a step is a plain call."""
    return fn(*args, **kwargs)

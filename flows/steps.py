"""The Prefect side of `tasks.steps`: each step of a job runs as a Prefect task."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

P = ParamSpec("P")
T = TypeVar("T")


@cache
def _task_of(fn: Callable[..., Any]) -> Any:
    return task(name=fn.__name__.strip("_").replace("_", "-"), cache_policy=NO_CACHE)(fn)


def as_task(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` as a task of the current flow run (never cached: every run does the work anew).

    The arguments are plain values, never futures: each is passed `quote`d, so that Prefect does
    not walk into it looking for upstream tasks (issue 14: the monitor hands its digest rows, tens
    of thousands of dataclasses at national scale, from one step to the next)."""
    return _task_of(fn)(*(quote(a) for a in args), **{k: quote(v) for k, v in kwargs.items()})

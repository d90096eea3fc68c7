"""The Prefect side of `tasks.steps`: each step of a job runs as a Prefect task."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

P = ParamSpec("P")
T = TypeVar("T")


@cache
def _task_of(fn: Callable[..., Any]) -> Any:
    return task(fn, name=fn.__name__.strip("_").replace("_", "-"), cache_policy=NO_CACHE)


def as_task(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` as a task of the current flow run (never cached: every run does the work anew)."""
    return _task_of(fn)(*args, **kwargs)

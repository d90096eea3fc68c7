"""The cyclic garbage collector held back while a job makes many long-lived objects (issue 14).

Nothing else changes in either case: reference counting still frees every object the moment it is
no longer used; only reference cycles wait for the block's end. Blocks may nest or overlap in
threads of one process: the first one in changes the collector, the last one out restores it. Never
hold either across a wait (an approval pause) or around work that makes many cycles (workbooks).

- `gc_paused()` turns the collector off. A national day's deadline sweep makes ≈ 200,000 objects
  that live until it ends (rows, clocks, alerts, digest rows), on top of the hundreds of thousands
  a run holds after importing SQLAlchemy, the models and Prefect; at 1M cases the collector's full
  passes were ≈ 0.7 s of the sweep's 2.6 s of CPU (notes/h20-monitor.md). Pausing it in an idle
  flow run's body saved no CPU: the passes only moved after the body.
- `fewer_collections()` moves what the process already holds (modules, settings, the ORM's
  metadata) out of the collector's sight (`gc.freeze`) and lets the young generation grow to
  `YOUNG_THRESHOLD` objects before a pass. A drop of 10,000 referrals keeps hundreds of thousands
  of live objects (records, plans, results): ≈ 1,300 young and 9 full passes, ≈ 1.1–1.4 s of a 7 s
  run (notes/h19-intake.md); the run's peak memory is the same (≈ 160 MB). It suits a long run
  that still makes some cycles, where turning the collector off could let them pile up.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

YOUNG_THRESHOLD = 10_000  # objects allocated (net) before a young-generation pass; CPython's default is 700


def _nested(change: Callable[[], Callable[[], None]]) -> Callable[[], AbstractContextManager[None]]:
    """A block that calls `change()` when the first one enters and the undo it returned when the last
    one leaves (nested or overlapping in threads)."""
    lock = threading.Lock()
    depth = 0
    undo: Callable[[], None] = lambda: None  # noqa: E731

    @contextmanager
    def block() -> Iterator[None]:
        nonlocal depth, undo
        with lock:
            if depth == 0:
                undo = change()
            depth += 1
        try:
            yield
        finally:
            with lock:
                depth -= 1
                if depth == 0:
                    undo()

    return block


def _turn_off() -> Callable[[], None]:
    was_enabled = gc.isenabled()
    gc.disable()
    return gc.enable if was_enabled else (lambda: None)


def _collect_less() -> Callable[[], None]:
    saved = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(YOUNG_THRESHOLD, saved[0]), *saved[1:])

    def restore() -> None:
        gc.set_threshold(*saved)
        gc.unfreeze()

    return restore


gc_paused = _nested(_turn_off)
gc_paused.__doc__ = "The collector off inside the block (see the module docstring)."
fewer_collections = _nested(_collect_less)
fewer_collections.__doc__ = "The collector frozen and its young generation larger inside the block (module docstring)."

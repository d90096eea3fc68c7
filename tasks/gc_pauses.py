"""The cyclic garbage collector paused while a job makes many objects at once (issue 14).

A national day's deadline sweep makes ≈ 200,000 objects that live until it ends (rows, clocks,
alerts, digest rows), on top of the hundreds of thousands a run holds after importing SQLAlchemy,
the models and Prefect. CPython's collector scanned all of them again and again: at 1M cases its
full passes were ≈ 0.7 s of the sweep's 2.6 s of CPU. `gc_paused()` turns the collector off for
the block and back on after (when it was on). Nothing else changes: reference counting still frees
every object the moment it is no longer used; only reference cycles wait for the block's end.
Never hold it across a wait (an approval pause) or around work that makes many cycles (workbooks).
Blocks may nest or overlap in threads: the first one in turns it off, the last one out back on.
(Measured and left out: pausing it in an idle flow run's body saves no CPU — the passes only
move after the body; notes/h20-monitor.md.)"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """See the module docstring."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

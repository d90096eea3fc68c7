"""The cyclic garbage collector paused while a job makes many objects at once (issue 14).

A scheduled run imports SQLAlchemy and the models (hundreds of thousands of objects, on top of
Prefect's) and a national day's sweep makes ≈ 200,000 more (rows, clocks, alerts, digest rows) that
live until it ends. CPython's collector scans what is alive again and again: at 1M cases its full
passes were ≈ 0.7 s of the sweep's 2.6 s of CPU; in an idle run's body, 0.15–0.3 s of ≈ 1 s.
`gc_paused()` turns the collector off for the block and back on after (when it was on). Nothing
else changes: reference counting still frees every object the moment it is no longer used; only
reference cycles wait for the block's end. Never hold it across a wait (an approval pause).
Blocks may nest or overlap in threads: the first one in turns it off, the last one out back on.
"""

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

"""Progress of long work, shown on a terminal: done of total, rate, time left (on stderr).

Work that may run for minutes reports through two calls that cost nothing when no one listens:

    for record in progress.counted(records): ...   # the total grows by len(records); each one done
    progress.expect(n); progress.advance()          # the same, by hand

A command turns the display on around its work (`with progress.shown("intake", "records",
enabled=not as_json): ...`): only when stderr is a terminal (or `force=True`, for tests), never
with `--json`, and never on stdout. The display is a `rich` progress bar; the listener is a
process-wide callback, so the same calls report from a plain function or from a flow run in the
command's own process. Domain code never learns whether anything is shown.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

#: (expect(n), advance(n)) of the display now shown, or None.
_listener: tuple[Callable[[int], None], Callable[[int], None]] | None = None
_lock = threading.Lock()


def expect(n: int) -> None:
    """Add `n` to the total of the work now shown (nothing when nothing is shown)."""
    listener = _listener
    if listener is not None and n:
        listener[0](n)


def advance(n: int = 1) -> None:
    """Count `n` more done (nothing when nothing is shown)."""
    listener = _listener
    if listener is not None and n:
        listener[1](n)


def counted(items, total: int | None = None):
    """Yield each of `items`, counting it done when the loop asks for the next one; the total
    grows by `total` (default `len(items)`) first. `for x in progress.counted(xs):` is all a loop
    needs."""
    expect(len(items) if total is None else total)
    for item in items:
        yield item
        advance()


def wanted(stream: IO | None = None, enabled: bool = True) -> bool:
    """Show progress? Only when enabled (not `--json`) and `stream` (stderr) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return enabled and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _bar(label: str, unit: str, stream: IO, force: bool):
    """The `rich` progress bar `shown` draws: label, bar, done of total, rate, time left."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"? {unit}/s" if speed is None else f"{speed:,.1f} {unit}/s")

    console = Console(file=stream, force_terminal=True if force else None, stderr=stream is sys.stderr)
    return Progress(
        TextColumn(f"{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        RateColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        refresh_per_second=4,
    )


@contextmanager
def shown(
    label: str,
    unit: str,
    *,
    enabled: bool = True,
    total: int | None = None,
    stream: IO | None = None,
    force: bool = False,
) -> Iterator[None]:
    """Show a progress bar for the work in the block on `stream` (default stderr) when `wanted`
    (or `force`); otherwise do nothing. `total` may be known up front or grow with `expect`."""
    global _listener
    stream = stream if stream is not None else sys.stderr
    if not (force or wanted(stream, enabled)):
        yield
        return
    bar = _bar(label, unit, stream, force)
    task_id = bar.add_task(label, total=total)
    counted = {"total": total or 0}

    def _expect(n: int) -> None:
        with _lock:
            counted["total"] += n
            bar.update(task_id, total=counted["total"])

    def _advance(n: int) -> None:
        bar.advance(task_id, n)

    with bar:
        previous, _listener = _listener, (_expect, _advance)
        try:
            yield
        finally:
            _listener = previous
            bar.refresh()

"""Progress on a terminal: nothing unless stderr is a terminal (and not --json); done of total,
rate and time left when it is."""

from __future__ import annotations

import io
import re
import time

from tasks.operations import progress


def _work(n: int) -> list[int]:
    return [x for x in progress.counted(range(n))]


def test_without_a_terminal_nothing_is_written():
    stream = io.StringIO()  # not a TTY
    with progress.shown("intake", "records", stream=stream):
        assert _work(5) == [0, 1, 2, 3, 4]
    assert stream.getvalue() == ""


def test_with_json_nothing_is_written_even_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with progress.shown("intake", "records", enabled=False, stream=stream):
        _work(3)
    assert stream.getvalue() == ""
    assert progress.wanted(Tty()) and not progress.wanted(io.StringIO())


def test_on_a_terminal_it_shows_done_of_total_rate_and_time_left():
    stream = io.StringIO()
    with progress.shown("intake", "records", stream=stream, force=True):
        progress.expect(3)
        progress.advance(3)
        for _ in progress.counted(range(7)):
            time.sleep(0.02)
    text = stream.getvalue()
    assert "intake" in text and "10/10" in text and "records" in text
    assert re.search(r"\d[\d,]*\.\d records/s", text) and "left" in text


def test_outside_a_display_the_calls_cost_nothing_and_say_nothing(capsys):
    progress.expect(10)
    progress.advance(10)
    assert _work(2) == [0, 1]
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""

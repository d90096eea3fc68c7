"""`tasks.gc_pauses.fewer_collections`: settings changed inside, restored after (nested too)."""

from __future__ import annotations

import gc

import pytest

from tasks.gc_pauses import YOUNG_THRESHOLD, fewer_collections


def test_settings_restored_after_nested_runs_and_errors() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        assert gc.get_freeze_count() > 0
        with fewer_collections():
            assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])  # the outer run still holds it
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a run that fails")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_are_still_collected() -> None:
    with fewer_collections():
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1

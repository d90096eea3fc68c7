"""Issue 14: the equivalence drops go through the batched (Core) path itself, never the per-record
fallback — the snapshot test alone cannot tell, since the fallback writes the same rows."""

from __future__ import annotations

import pytest

from tests.integration import test_intake_equivalence as equivalence


def test_the_equivalence_drops_are_written_by_the_batch_not_the_fallback(drs, las, drs_env, tmp_path, monkeypatch):
    from tasks.intake import records

    def no_fallback(*args, **kwargs):
        pytest.fail("a batch fell back to the per-record import")

    monkeypatch.setattr(records, "import_record", no_fallback)
    equivalence.test_the_batched_import_writes_what_the_per_record_import_wrote(drs, las, drs_env, tmp_path)

"""Issue 14: a run remembers the next free case number between its batches instead of reading the
year's every reference again (at a million cases that read cost ≈ 0.1 s a batch) — and still
numbers after a case someone else created between two batches, without falling back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.intake_samples import referral

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _records(prefix: str, n: int) -> list[tuple[str, dict]]:
    from models.domain.referrals import flatten  # as the readers hand records on

    return [(f"record {k}", flatten(referral(f"{prefix}-{k}", child_name=f"Child {prefix} {k}"))) for k in range(n)]


def test_the_next_batch_numbers_after_a_case_created_between_batches(drs_env, las, monkeypatch):
    from tasks.cases import casework
    from tasks.intake import batch, records
    from tests.integration.test_foundation_cli import make_case

    def no_fallback(*args, **kwargs):
        pytest.fail("a batch fell back to the per-record import")

    monkeypatch.setattr(records, "import_record", no_fallback)
    monkeypatch.setattr(batch, "BATCH_SIZE", 2)
    reads = []
    monkeypatch.setattr(batch, "first_free_case_number", lambda db, year: reads.append(year) or real(db, year))
    real = casework.first_free_case_number

    results = batch.import_records_batched(_records("NB", 6), source="nb.json", today=TODAY, now=NOW)
    first = [next(results) for _ in range(2)]
    assert [r.status for r in first] == ["imported"] * 2, [r.errors for r in first]
    refs = [r.case_ref for r in first]
    assert refs == ["DRS-2026-00001", "DRS-2026-00002"] and reads == [2026]
    refs += [next(results).case_ref for _ in range(2)]  # the next batch: the remembered number, not a read
    assert refs[2:] == ["DRS-2026-00003", "DRS-2026-00004"] and reads == [2026]
    # someone else creates a case between two batches: the remembered number is taken, so the year is read
    assert make_case("Salford", letter=date(2026, 11, 2), received=date(2026, 11, 9)) == "DRS-2026-00005"
    refs += [r.case_ref for r in results]
    assert refs[4:] == ["DRS-2026-00006", "DRS-2026-00007"] and reads == [2026, 2026]

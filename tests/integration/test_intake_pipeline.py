"""Issue 14: a batch is written by a writer thread while the next is planned, and a run counts on
the next free case number between its batches instead of reading the year's every reference again
(≈ 0.1 s a batch at a million cases). It still numbers after a case created meanwhile (the batch
planned on that number is refused and imported one by one), and the writer uses the job's wiring."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.intake_samples import referral

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _records(prefix: str, n: int) -> list[tuple[str, dict]]:
    from models.domain.referrals import flatten  # as the readers hand records on

    return [(f"record {k}", flatten(referral(f"{prefix}-{k}", child_name=f"Child {prefix} {k}"))) for k in range(n)]


def test_batches_count_on_the_next_number_and_number_after_a_case_created_meanwhile(drs_env, las, monkeypatch):
    from tasks.cases import casework
    from tasks.intake import batch
    from tests.integration.test_foundation_cli import make_case

    monkeypatch.setattr(batch, "BATCH_SIZE", 2)
    reads = []
    real = casework.first_free_case_number
    monkeypatch.setattr(batch, "first_free_case_number", lambda db, year: reads.append(year) or real(db, year))

    done = list(batch.import_records_batched(_records("NA", 6), source="na.json", today=TODAY, now=NOW))
    assert [r.case_ref for r in done] == [f"DRS-2026-0000{n}" for n in range(1, 7)]
    assert reads == [2026]  # three batches, one read of the year's references

    # someone else creates a case while a run is between batches (the next batch may already be
    # planned on the number it takes: that batch is refused and imported one by one)
    results = batch.import_records_batched(_records("NB", 6), source="nb.json", today=TODAY, now=NOW)
    refs = [next(results).case_ref for _ in range(2)]
    assert make_case("Salford", letter=date(2026, 11, 2), received=date(2026, 11, 9)) == "DRS-2026-00009"
    refs += [r.case_ref for r in results]
    assert refs == ["DRS-2026-00007", "DRS-2026-00008", *(f"DRS-2026-{n:05d}" for n in range(10, 14))]


def test_the_writer_thread_writes_to_the_wired_database(drs_env, las, tmp_path):
    """Batches are written by a writer thread: it runs with the job's wiring, not the environment's."""
    from sqlalchemy import func, select

    from models.db import Case
    from models.db.migrate import upgrade
    from tasks.cases.registry import parse_la_csv, upsert_local_authority
    from tasks.db import unit_of_work
    from tasks.intake import job
    from tasks.wiring import Wiring, wired
    from tests.conftest import LA_CSV
    from tests.intake_samples import write_json

    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    upgrade(other)
    with unit_of_work(other) as db:
        for row in parse_la_csv(LA_CSV):
            upsert_local_authority(db, row, NOW)
        db.commit()
    drop = tmp_path / "drop.json"
    write_json(drop, [referral(f"WT-{n}", child_name=f"Wired Child {n}") for n in range(3)])
    wiring = Wiring(settings=drs_env.model_copy(update={"database_url": other}))
    assert job.run(TODAY, NOW, paths=[drop], wiring=wiring).as_dict()["imported"] == 3
    with wired(wiring), unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 3
    with unit_of_work() as db:  # the environment's database: untouched
        assert db.scalar(select(func.count()).select_from(Case)) == 0

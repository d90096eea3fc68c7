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


def test_insert_rows_writes_what_a_core_insert_writes(drs_env, las):
    """`bulk_insert.insert_rows` (SQLAlchemy's SQL and bind processors, remembered per value, at the
    driver) stores exactly what `db.execute(insert(table), rows)` stores — defaults filled included."""
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import insert, select

    from models.db import Case
    from tasks.db import unit_of_work
    from tasks.intake.bulk_insert import _plan, insert_rows

    london = ZoneInfo("Europe/London")
    moments = [datetime(2026, 11, 20, 9, 0, tzinfo=UTC), datetime(2026, 11, 20, 9, 0, tzinfo=UTC).astimezone(london)]
    rows = [
        {"service": "mediation", "status": "new", "la_id": 1, "received_on": date(2026, 11, 1 + n % 3),
         "created_at": moments[n % 2], "updated_at": moments[0], "sections": ["B", "F"][: n % 3], "flags": [],
         "health_issues": n % 2 == 1, "notes": None}
        for n in range(8)
    ]  # fmt: skip
    with unit_of_work() as db:
        assert _plan(db.connection().dialect, Case.__table__, ("ref", *rows[0])) is not None  # not the fallback
        insert_rows(db, Case.__table__, [{"ref": f"DRS-2026-9{n:04d}", **row} for n, row in enumerate(rows)])
        db.execute(insert(Case.__table__), [{"ref": f"DRS-2026-8{n:04d}", **row} for n, row in enumerate(rows)])
        db.commit()
        stored = {r.ref: r._asdict() for r in db.execute(select(Case.__table__).where(Case.ref.like("DRS-2026-_0%")))}
    for n in range(8):
        fast, core = stored[f"DRS-2026-9{n:04d}"], stored[f"DRS-2026-8{n:04d}"]
        assert fast.pop("id") != core.pop("id")
        assert fast.pop("ref") != core.pop("ref")
        assert fast == core
        assert fast["appeal_lodged"] is False  # the column's default, filled as Core fills it

"""Case references keep counting past 99,999 in a year, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from models.db import Case
from tests.integration.test_foundation_cli import make_case


def test_reference_after_99999_is_100000_and_keeps_counting(las):
    from tasks.db import unit_of_work

    first = make_case("Salford", letter=date(2026, 11, 2), received=date(2026, 11, 9))
    assert first == "DRS-2026-00001"
    with unit_of_work() as db:
        db.execute(update(Case).where(Case.ref == first).values(ref="DRS-2026-99999"))
        db.commit()
    refs = [make_case("Salford", letter=date(2026, 11, 2), received=date(2026, 11, 9)) for _ in range(3)]
    # as strings "DRS-2026-99999" sorts after "DRS-2026-100000": the next number would collide
    assert refs == ["DRS-2026-100000", "DRS-2026-100001", "DRS-2026-100002"]
    assert make_case("Salford", letter=date(2026, 11, 2), received=date(2027, 1, 4)) == "DRS-2027-00001"

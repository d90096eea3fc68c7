"""Issue 14 (idle): a month reported again from the same input writes nothing and queues nothing;
any change to what its figures read (a late event, a row changed in place, a holiday, a workbook
removed or edited, a run stopped half way) writes every workbook again. SQLite, and PostgreSQL
when configured; the workbooks are read back with openpyxl."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models.db import Case, Clock
from tests.integration.test_monthly_report import (
    _all_values,
    _case,
    _event,
    _run,
    _summary_rows,
    november,  # noqa: F401  (fixture)
)

LATER = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def _stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.xlsx")}


def test_same_input_writes_nothing_and_gives_the_same_summary(november, tmp_path):  # noqa: F811
    first = _run(tmp_path)
    folder = Path(first["workbook"]).parent
    before = _stamps(folder)
    assert len(before) == 1 + 5 and (folder / "drs-monthly-2026-11.json").exists()
    second = _run(tmp_path, now=LATER)
    assert _stamps(folder) == before  # not one file rewritten
    assert {k: v for k, v in second.items() if k != "emails"} == {k: v for k, v in first.items() if k != "emails"}
    assert second["emails"]["queued"] == 0 and second["emails"]["already_queued"] == 6
    assert _run(tmp_path, resend=True)["emails"]["queued"] == 6  # --resend still sends, the files as they are
    assert _stamps(folder) == before


def test_a_late_event_writes_every_workbook_again(november, tmp_path):  # noqa: F811
    from tasks.db import unit_of_work

    first = _run(tmp_path)
    folder = Path(first["workbook"]).parent
    before = _stamps(folder)
    with unit_of_work() as db:  # a referral recorded late, received in November (Salford)
        late = _case(db, "Salford", date(2026, 11, 27))
        _event(db, late, "mediation-declined", date(2026, 11, 28))
        db.commit()
    second = _run(tmp_path, now=LATER)
    after = _stamps(folder)
    assert all(after[name] != stamp for name, stamp in before.items())  # every workbook written again
    rows = _summary_rows(second["workbook"])
    assert rows[("All local authorities", "referrals_total")][:2] == (6, 6)  # was 5
    assert second["kpis"] != first["kpis"] and second["kpis"][0]["referrals"] == 6
    assert second["emails"]["queued"] == 0  # the emails were queued in the first run: nobody is emailed twice


def test_a_row_changed_in_place_writes_again(november, tmp_path):  # noqa: F811
    from tasks.db import unit_of_work

    first = _run(tmp_path)
    values = _all_values(first["workbook"])
    with unit_of_work() as db:  # no new row, no new id: a clock due in November met, a status changed
        due_in_november = Clock.due.between(date(2026, 11, 1), date(2026, 11, 30))
        clock = db.scalars(select(Clock).where(due_in_november, Clock.met_on.is_(None))).first()
        assert clock is not None
        db.execute(update(Clock).where(Clock.id == clock.id).values(met_on=clock.due, state="met"))
        db.execute(update(Case).where(Case.ref == november["C"]).values(status="closed"))
        db.commit()
    full = Path(first["workbook"])
    before = full.stat().st_mtime_ns
    second = _run(tmp_path, now=LATER)
    assert full.stat().st_mtime_ns != before
    assert _all_values(second["workbook"]) != values


def test_a_removed_or_edited_workbook_or_a_new_holiday_writes_again(november, tmp_path):  # noqa: F811
    from models.domain.calendar import WorkingCalendar
    from tasks.reporting.fingerprint import fingerprint
    from tasks.reporting.load import load_month

    first = _run(tmp_path)
    one = Path(first["la_workbooks"]["E08000006"])
    one.unlink()
    _run(tmp_path)
    assert one.exists()
    full = Path(first["workbook"])
    untouched = full.stat().st_mtime_ns
    assert _run(tmp_path) == _run(tmp_path) and full.stat().st_mtime_ns == untouched
    one.write_bytes(one.read_bytes() + b"\0")  # opened and saved by hand: another size
    _run(tmp_path)
    assert full.stat().st_mtime_ns != untouched  # every workbook written again
    data = load_month("2026-11")
    plain = fingerprint(data, WorkingCalendar())
    assert fingerprint(data, WorkingCalendar()) == plain
    assert fingerprint(data, WorkingCalendar([date(2026, 11, 16)])) != plain


def test_a_run_stopped_half_way_leaves_no_manifest(november, tmp_path, monkeypatch):  # noqa: F811
    import reports.monthly.workbook as writer
    import tasks.reporting.workbooks as workbooks

    first = _run(tmp_path)
    folder = Path(first["workbook"]).parent
    manifest = folder / "drs-monthly-2026-11.json"
    real, written = writer.write_workbook, []

    def fails_on_the_third(report, generated, path):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(path)
        real(report, generated, path)

    monkeypatch.setattr(writer, "write_workbook", fails_on_the_third)
    monkeypatch.setattr(workbooks.fingerprint, "_code_digest", lambda: b"a new release")
    with pytest.raises(OSError, match="disk full"):
        _run(tmp_path)
    assert not manifest.exists()
    monkeypatch.setattr(writer, "write_workbook", real)
    before = _stamps(folder)
    _run(tmp_path)
    after = _stamps(folder)
    assert manifest.exists() and all(after[name] != stamp for name, stamp in before.items())

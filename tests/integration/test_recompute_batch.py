"""Issue 14: the set-based batch recompute stores exactly what the one-case path stores.

A generated data set (every case status, events, sessions, outbox rows) is disturbed — clocks
deleted, invented, edited, statuses and rule versions made stale, LA service standards set, a
holiday added — then recomputed twice from the same starting rows: once the old way (the ORM's
`recompute_clocks`, case by case) and once by `tasks.deadlines.recompute.recompute_cases`. Every
clock column except the id and computed_at, and every case's status, rules_version and updated_at,
must match; the batch stamps `computed_at` only on the rows it writes.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select, update

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
CLOCK_KEY = ("case_id", "name")


def _snapshot() -> tuple[list[tuple], dict[int, tuple]]:
    """(every clock row but its id and computed_at, sorted; each case's status, rules_version, updated_at)."""
    from models.db import Case, Clock
    from tasks.db import unit_of_work

    columns = [c for c in Clock.__table__.columns if c.name not in ("id", "computed_at")]
    with unit_of_work() as db:
        clocks = sorted(tuple(r) for r in db.execute(select(*columns)))
        cases = {r.id: (r.status, r.rules_version, r.updated_at) for r in db.execute(select(Case.__table__))}
    return clocks, cases


def _raw_clocks() -> list[dict]:
    from models.db import Clock
    from tasks.db import unit_of_work

    with unit_of_work() as db:
        return [dict(r._mapping) for r in db.execute(select(Clock.__table__))]


def _restore(clocks: list[dict], cases: dict[int, tuple]) -> None:
    from models.db import Case, Clock
    from tasks.db import unit_of_work

    clock_table, case_table = cast(Table, Clock.__table__), cast(Table, Case.__table__)
    with unit_of_work() as db:
        db.execute(delete(clock_table))
        db.execute(insert(clock_table), clocks)
        for case_id, (status, version, updated) in cases.items():
            db.execute(
                update(case_table)
                .where(case_table.c.id == case_id)
                .values(status=status, rules_version=version, updated_at=updated)
            )
        db.commit()


def _disturb(seed: int) -> None:
    """Stale rows of every kind the recompute must put right, and LA standards to honour."""
    from models.db import Case, Clock, LocalAuthority
    from tasks.db import unit_of_work

    rng = random.Random(seed)
    with unit_of_work() as db:
        las = sorted(db.scalars(select(LocalAuthority.id)))
        db.execute(
            update(LocalAuthority)
            .where(LocalAuthority.id.in_(las[:2]))
            .values(service_standards={"acknowledge_wd": 1, "la_informed_wd": 9, "first_contact_wd": 0})
        )
        clocks = list(db.execute(select(Clock.id, Clock.case_id, Clock.name)))
        gone = rng.sample(clocks, len(clocks) // 20)
        db.execute(delete(Clock).where(Clock.id.in_([c.id for c in gone])))
        gone_ids = {c.id for c in gone}
        kept = [c for c in clocks if c.id not in gone_ids]
        for clock in rng.sample(kept, len(kept) // 10):  # wrong values in every column the engine sets
            db.execute(
                update(Clock)
                .where(Clock.id == clock.id)
                .values(state=rng.choice(["open", "missed", "met"]), target=date(2030, 1, 1), note="stale")
            )
        case_ids = sorted({c.case_id for c in clocks})
        for case_id in rng.sample(case_ids, 25):  # a clock the engine never gives
            db.add(
                Clock(
                    case_id=case_id,
                    name="retired_clock",
                    due=TODAY,
                    target=TODAY,
                    state="open",
                    owner="la",
                    level="SERVICE",
                    started_on=TODAY,
                    source="an old rule",
                    note="",
                    computed_at=NOW,
                )
            )
        for case_id in rng.sample(case_ids, 40):
            db.execute(update(Case).where(Case.id == case_id).values(status="new", rules_version="old-rules"))
        _more_sessions(db, rng, case_ids)
        db.commit()


def _more_sessions(db, rng: random.Random, case_ids: list[int]) -> None:
    """Cases with two scheduled sessions (the earlier one counts), with and without one already."""
    from models.db import MediationSession, Mediator

    mediator = db.scalar(select(Mediator.id).limit(1))
    booked = set(db.scalars(select(MediationSession.case_id).where(MediationSession.status == "scheduled")))
    chosen = rng.sample(sorted(booked), min(10, len(booked))) + rng.sample(sorted(set(case_ids) - booked), 10)
    for n, case_id in enumerate(chosen):
        for k, (start, short) in enumerate((((2026, 12, 3), True), ((2026, 12, 22), False))):
            start_at = datetime(*start, 10, 0, tzinfo=UTC)
            db.add(
                MediationSession(
                    case_id=case_id,
                    mediator_id=mediator,
                    uid=f"test-{n}-{k}@drs-flows",
                    start_at=start_at,
                    end_at=start_at.replace(hour=13),
                    status="scheduled",
                    short_notice_agreed=short,
                    booked_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
                    updated_at=NOW,
                )
            )


def test_batch_recompute_stores_what_the_one_case_path_stores(drs_env):
    from bench.generate import generate_cases
    from models.db import Case
    from models.domain.vocabulary import CASE_STATUSES
    from tasks.cases.casework import recompute_clocks
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import working_calendar
    from tasks.deadlines.recompute import recompute_cases

    counts = generate_cases(drs_env.db_url, 500, seed=11, n_las=5)
    assert set(counts["by_status"]) == set(CASE_STATUSES)
    _disturb(seed=11)
    (drs_env.home / "extra-holidays.csv").write_text("date,name\n2026-12-29,Proclaimed holiday\n")
    calendar = working_calendar()
    with unit_of_work() as db:  # every case, closed ones too: the batch path takes whatever ids it is given
        ids = list(db.scalars(select(Case.id).where(Case.anonymised_at.is_(None)).order_by(Case.id)))
    start_rows, start = _raw_clocks(), _snapshot()
    start_stamps = {(r["case_id"], r["name"]): r["computed_at"] for r in start_rows}

    with unit_of_work() as db:  # the old way: one case at a time through the ORM
        for case in db.scalars(select(Case).where(Case.id.in_(ids))):
            recompute_clocks(db, case, TODAY, NOW, calendar)
        db.commit()
    old = _snapshot()

    _restore(start_rows, start[1])
    assert _snapshot() == start
    assert recompute_cases(ids, TODAY, NOW, calendar, batch=97) == len(ids)  # several batches and a remainder
    new = _snapshot()

    # the test can fail: the old way changed rows of every kind the batch must change too
    old_clocks = {c[:2]: c for c in old[0]}
    start_clocks = {c[:2]: c for c in start[0]}
    assert set(start_clocks) - set(old_clocks), "no clock deleted"
    assert set(old_clocks) - set(start_clocks), "no clock inserted"
    assert any(start_clocks[k][2:] != old_clocks[k][2:] for k in set(start_clocks) & set(old_clocks))
    assert sum(old[1][i][0] != start[1][i][0] for i in ids) >= 10, "no status changed"

    assert len(new[0]) == len(old[0])
    for new_row, old_row in zip(new[0], old[0], strict=True):
        assert new_row == old_row
    assert new[1] == old[1]
    # computed_at: `now` on every row the batch wrote; an unchanged clock keeps its own
    stamped = {(r["case_id"], r["name"]): r["computed_at"] for r in _raw_clocks()}
    for key, row in {c[:2]: c for c in new[0]}.items():
        unchanged = key in start_clocks and start_clocks[key] == row
        assert stamped[key] == (start_stamps[key] if unchanged else NOW), key

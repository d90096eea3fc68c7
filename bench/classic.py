"""Benchmarks: the daily clock sweep and the clock engine, with same-run baselines.

    .venv/bin/python -m bench.run [--clocks 200000] [--repeat 7]

Figures are medians of `--repeat` runs on this machine (noisy: 2 shared cores), each reported
with a ratio against a baseline measured in the same run, so the ratio is what to compare
between machines:
- sweep: the monitor's "open clocks with target ≤ horizon" query over the persisted clocks,
  through the `(state, target)` index, against the same query forced to a full table scan;
- engine: `compute_clocks` for a typical case, against one `add_working_days` call.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_sweep(n_clocks: int, repeat: int) -> dict:
    from models.db import Clock
    from models.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    rng = random.Random(1)
    start = date(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO local_authorities (code, name, aliases, certificate_needs_approval, created_at) "
                "VALUES ('E08000006', 'Salford', '[]', 0, '2026-01-01 00:00:00')"
            )
        )
        per_case = 5
        cases = [
            {
                "id": i + 1,
                "ref": f"DRS-2026-{i + 1:06d}",
                "service": "mediation",
                "status": "open",
                "la_id": 1,
                "received_on": start,
                "sections": "[]",
                "health_issues": False,
                "social_care_issues": False,
                "consent_to_contact_la": False,
                "flags": "[]",
                "appeal_lodged": False,
                "created_at": "2026-01-01 00:00:00",
                "updated_at": "2026-01-01 00:00:00",
            }
            for i in range(n_clocks // per_case)
        ]
        conn.execute(
            text(
                "INSERT INTO cases (id, ref, service, status, la_id, received_on, sections, health_issues, "
                "social_care_issues, consent_to_contact_la, flags, appeal_lodged, created_at, updated_at) "
                "VALUES (:id, :ref, :service, :status, :la_id, :received_on, :sections, :health_issues, "
                ":social_care_issues, :consent_to_contact_la, :flags, :appeal_lodged, :created_at, :updated_at)"
            ),
            cases,
        )
        rows = []
        for case in cases:
            for k in range(per_case):
                due = start + timedelta(days=rng.randrange(365))
                state = rng.choices(("open", "met", "not_applicable", "missed"), (15, 75, 5, 5))[0]
                rows.append(
                    {
                        "case_id": case["id"],
                        "name": f"clock_{k}",
                        "due": due,
                        "target": due,
                        "state": state,
                        "owner": "adviser",
                        "level": "SECONDARY",
                        "started_on": start,
                        "source": "",
                        "note": "",
                        "computed_at": STAMP,
                    }
                )
        conn.execute(insert(Clock.__table__), rows)
    horizon = (start + timedelta(days=7)).isoformat()  # the monitor looks a few working days ahead
    indexed = text("SELECT case_id, name, target FROM clocks WHERE state = 'open' AND target <= :h")
    scan = text("SELECT case_id, name, target FROM clocks NOT INDEXED WHERE state = 'open' AND target <= :h")
    with engine.connect() as conn:
        found = len(conn.execute(indexed, {"h": horizon}).all())
        assert found == len(conn.execute(scan, {"h": horizon}).all())
        t_index = _median_seconds(lambda: conn.execute(indexed, {"h": horizon}).all(), repeat)
        t_scan = _median_seconds(lambda: conn.execute(scan, {"h": horizon}).all(), repeat)
    engine.dispose()
    return {
        "clocks": len(rows),
        "rows_found": found,
        "indexed_ms": t_index * 1000,
        "full_scan_ms": t_scan * 1000,
        "ratio_indexed_vs_scan": t_index / t_scan,
    }


def bench_engine(repeat: int) -> dict:
    import holidays

    from models.domain.calendar import WorkingCalendar
    from models.domain.clocks import CaseFacts, Event, compute_clocks

    cal = WorkingCalendar(holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030)).keys())
    facts = CaseFacts(
        service="mediation",
        decision_type="refuse_plan",
        letter_sent_on=date(2026, 3, 2),
        received_on=date(2026, 3, 9),
        events=(
            Event("information-given", date(2026, 3, 10)),
            Event("mediation-requested", date(2026, 3, 11)),
            Event("la-received-request", date(2026, 3, 12)),
            Event("mediation-concluded", date(2026, 4, 8)),
            Event("agreement-reached", date(2026, 4, 8), items=("issue-plan",)),
            Event("certificate-issued", date(2026, 4, 10), cert_type="after-mediation"),
        ),
    )
    n = 2000
    t_engine = _median_seconds(lambda: [compute_clocks(facts, cal, date(2026, 5, 1)) for _ in range(n)], repeat) / n
    t_wd = _median_seconds(lambda: [cal.add_working_days(date(2026, 4, 17), 3) for _ in range(n)], repeat) / n
    return {
        "compute_clocks_us": t_engine * 1e6,
        "add_working_days_us": t_wd * 1e6,
        "ratio_engine_vs_one_wd_step": t_engine / t_wd,
        "cases_per_second": 1 / t_engine,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sweep = bench_sweep(args.clocks, args.repeat)
    print(
        f"sweep  : {sweep['clocks']:,} clocks, {sweep['rows_found']:,} open and due; indexed {sweep['indexed_ms']:.1f} ms, "
        f"full scan {sweep['full_scan_ms']:.1f} ms, ratio {sweep['ratio_indexed_vs_scan']:.2f}"
    )
    engine = bench_engine(args.repeat)
    print(
        f"engine : compute_clocks {engine['compute_clocks_us']:.0f} µs per case ({engine['cases_per_second']:,.0f} cases/s); "
        f"one add_working_days {engine['add_working_days_us']:.1f} µs; ratio {engine['ratio_engine_vs_one_wd_step']:.0f}"
    )


if __name__ == "__main__":
    main()

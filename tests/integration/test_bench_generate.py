"""The benchmark's synthetic data (bench/generate.py) is what the project itself would hold, and
`bench/run.py --json` at a tiny scale prints one JSON list with every measure (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.conftest import REPO


def test_generated_cases_have_the_clocks_and_status_the_engine_gives_them(drs_env):
    from bench.generate import AS_OF, generate_cases
    from models.db import Case, Clock, ExpenseClaim, MediationSession, Meta, OutboxEmail, Referral
    from models.domain.clocks import compute_clocks
    from models.domain.status import case_status
    from models.domain.vocabulary import CASE_STATUSES
    from tasks.cases.casework import case_facts
    from tasks.db import unit_of_work
    from tasks.deadlines.calendar_source import holidays_version, working_calendar

    counts = generate_cases(drs_env.db_url, 700, seed=3, n_las=5)

    assert set(counts["by_status"]) == set(CASE_STATUSES)  # every status present
    assert 0.15 < counts["open_cases"] / counts["cases"] < 0.35  # ≈ 25 % not closed
    calendar = working_calendar()
    tz = ZoneInfo("Europe/London")
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 700
        assert db.scalar(select(func.count()).select_from(Referral)) == 700
        assert db.scalar(select(func.count()).select_from(MediationSession)) > 0
        assert db.scalar(select(func.count()).select_from(ExpenseClaim)) > 0
        assert db.scalar(select(func.count()).select_from(OutboxEmail)) > 0
        assert db.get(Meta, "holidays_version").value == holidays_version()
        stored = Counter()
        for case in db.scalars(select(Case).order_by(Case.id)):
            facts = case_facts(db, case, tz)  # the project's own reading of the rows
            expected = compute_clocks(facts, calendar, AS_OF)
            persisted = {c.name: c for c in db.scalars(select(Clock).where(Clock.case_id == case.id))}
            assert set(persisted) == set(expected), case.ref
            for name, clock in expected.items():
                row = persisted[name]
                assert (row.due, row.target, row.state, row.owner, row.level, row.started_on, row.met_on) == (
                    clock.due,
                    clock.target,
                    clock.state,
                    clock.owner,
                    clock.level,
                    clock.started_on,
                    clock.met_on,
                ), (case.ref, name)
            assert case.status == case_status((e.name for e in facts.events), facts.next_session is not None)
            stored[case.status] += 1
        assert dict(stored) == counts["by_status"]


def test_intake_drops_are_valid_deterministic_and_full_of_near_identical_forms(tmp_path):
    from bench.generate import RUN_DAY, la_rows, referral_records, write_referral_files
    from models.domain.referrals import flatten, validate_referral

    records = referral_records(300, seed=5, n_las=5)
    assert records == referral_records(300, seed=5, n_las=5)
    assert len({r["form_id"] for r in records}) == 300
    known = {k.lower() for la in la_rows(5) for k in (la["code"], la["name"], *la["aliases"])}
    for record in records:
        form, problems = validate_referral(
            flatten(record), today=RUN_DAY, tz=ZoneInfo("Europe/London"), la_known=lambda text: text.lower() in known
        )
        assert form is not None, problems
    people = Counter(
        (r["child"]["name"], r["child"]["date_of_birth"], r["local_authority"], r["decision"]["letter_sent_on"])
        for r in records
    )
    assert sum(n for n in people.values() if n > 1) >= 30  # many forms about a child already sent in
    json_path, csv_path = write_referral_files(tmp_path, 20, seed=5, n_las=5)
    assert len(json.loads(json_path.read_text())) == 20
    assert len(csv_path.read_text().splitlines()) == 21


def test_bench_run_json_prints_every_measure_beside_its_baseline(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRS_", "PREFECT_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--scale",
            "0.001",
            "--no-prefect",
            "--repeat",
            "1",
            "--json",
            "--work",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout)  # stdout is exactly one JSON document
    assert isinstance(rows, list)
    by_measure = {row["measure"]: row for row in rows}
    for measure in ("intake", "monitor", "recompute", "report", "delivery"):  # idle needs a Prefect server
        row = by_measure[measure]
        assert set(row) == {"measure", "value", "unit", "baseline", "ratio", "rss_mb", "goal"}
        assert row["value"] > 0 and row["baseline"] > 0 and row["rss_mb"] > 0, row
        if row["unit"].endswith("/s"):  # rates: baseline rate over project rate
            assert abs(row["ratio"] - row["baseline"] / row["value"]) < 0.01 * row["ratio"] + 1e-3
        else:  # times: project over baseline
            assert abs(row["ratio"] - row["value"] / row["baseline"]) < 0.01 * row["ratio"] + 1e-3
    assert by_measure["delivery-rate-cap"]["ratio"] <= 1.05  # the configured cap is honoured
    assert not list(REPO.glob("drs-bench*"))  # nothing written inside the repository

"""Run a job both ways — its orchestrator with plain calls, and its Prefect flow — on the same
data, and compare what each left behind (issue 13: one orchestrator per job).

    def test_monitor_both_ways(prefect_harness, drs_env, las):
        seed(...)                                   # the data, once
        direct, flowed = both_ways(drs_env, lambda: job.run(TODAY, NOW, step=call),
                                   lambda: deadline_monitor(today=TODAY, now=NOW, wait_for_approval=False))
        assert direct.summary == flowed.summary     # typed summaries (drop `skipped` if you compare it apart)
        assert direct.tables == flowed.tables       # every row of every table
        assert direct.files == flowed.files         # every file under DRS_HOME (relative path, size)

SQLite only (the database is one file: snapshot and restore are a copy); the orchestration
under test does not depend on the database kind, which every other test covers.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

#: Columns whose values are not decided by the job's data: random Message-IDs, the audit trail's wall-clock time.
DEFAULT_IGNORED = frozenset({"message_id", "recorded_at"})  # recorded_at: the audit trail's real time


@dataclass
class Outcome:
    summary: Any
    tables: dict[str, list[tuple]]
    files: list[tuple[str, int]]


def dump_tables(url: str, ignore: Iterable[str] = DEFAULT_IGNORED) -> dict[str, list[tuple]]:
    """Every row of every table, as sorted tuples of text (ignored columns left out)."""
    from tasks.db import engine_for

    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            cols = [c for c in table.columns if c.name not in set(ignore)]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted(tuple("" if v is None else str(v) for v in row) for row in rows)
    return out


def dump_files(home: Path, skip: Iterable[str] = ("prefect",)) -> list[tuple[str, int]]:
    """Every file under DRS_HOME (relative path and size), the database and Prefect's home aside."""
    found = []
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home)
        if not path.is_file() or rel.parts[0] in set(skip) or ".sqlite3" in path.name:
            continue
        found.append((str(rel), path.stat().st_size))
    return found


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        s, d = Path(f"{src}{suffix}"), Path(f"{dst}{suffix}")
        if d.exists():
            d.unlink()
        if s.exists():
            shutil.copy2(s, d)


def both_ways(
    settings: Any,
    direct: Callable[[], Any],
    flowed: Callable[[], Any],
    ignore: Iterable[str] = DEFAULT_IGNORED,
) -> tuple[Outcome, Outcome]:
    """Snapshot DRS_HOME and the database, run `direct`, record; restore; run `flowed`, record."""
    from tasks.db import engine_for

    url = settings.db_url
    if not url.startswith("sqlite"):
        pytest.skip("both-ways comparison runs on SQLite (snapshot = file copy)")
    home = Path(settings.home).resolve()
    db = _sqlite_path(url)
    keep = home.parent / "both-ways-before"
    engine_for(url).dispose()
    shutil.copytree(home, keep / "home")
    _copy_db(db, keep / db.name)

    outcomes = []
    for run in (direct, flowed):
        summary = run()
        outcomes.append(Outcome(summary, dump_tables(url, ignore), dump_files(home)))
        engine_for(url).dispose()
        shutil.rmtree(home)
        shutil.copytree(keep / "home", home)
        _copy_db(keep / db.name, db)
    shutil.rmtree(keep)
    return outcomes[0], outcomes[1]

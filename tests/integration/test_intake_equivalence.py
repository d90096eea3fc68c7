"""Issue 14: the batched intake gives exactly the database content the per-record import gave.

`snapshots/intake_equivalence.json` was captured from the per-record code (main before the batched
import) by running this module with `WRITE_INTAKE_SNAPSHOT=1`: two drops with good, bad,
near-duplicate and repeated records, then every row the runs wrote (cases, events, clocks,
referrals, outbox, audit; ids included, wall-clock columns left out), the summaries and the
rejected reports. The test replays the drops through today's code and compares all of it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import MetaData, select

from tests.intake_samples import referral, write_csv

SNAPSHOT = Path(__file__).parent / "snapshots" / "intake_equivalence.json"
TODAY = "2026-11-23"
TABLES = ("cases", "case_events", "clocks", "referrals", "outbox", "audit_log")
IGNORED = {"message_id", "recorded_at"}  # random Message-IDs; the audit trail's real time


def _first_drop() -> list[dict]:
    records = []
    las = ["Salford", "Manchester City Council", "E08000001", "Blackburn", "BwD"]
    wishes = ["yes", "no", "undecided"]
    for i in range(24):
        records.append(
            referral(
                f"EQ-{i:03d}",
                child_name=f"Child {i % 9} Testperson",
                child_date_of_birth=f"201{i % 7}-0{1 + i % 9}-1{i % 10}",
                local_authority=las[i % len(las)],
                wants_mediation=wishes[i % 3],
                consent_to_contact_la=i % 4 != 1,
                health_issues=i % 5 == 0,
                social_care_issues=i % 6 == 0,
                sections=["F"] if i % 3 == 0 else [],
                submitted_at=f"2026-11-{10 + i % 10}T1{i % 10}:03:00Z",
                decision_letter_sent_on=f"2026-1{0 + i % 2}-0{1 + i % 8}",
            )
        )
    # near-identical forms: the same child, LA and letter under other form ids (possible duplicates)
    for j in range(6):
        records.append(
            referral(
                f"EQ-SIM-{j}",
                child_name="  child 0   TESTPERSON" if j % 2 else "Child 0 Testperson",
                child_date_of_birth="2010-01-10",
                local_authority="Salford" if j % 3 else "E08000006",
                decision_letter_sent_on="2026-10-01",
                wants_mediation=wishes[j % 3],
                submitted_at=f"2026-11-20T10:0{j}:00Z",
            )
        )
    # bad records: quarantined with reasons, the rest go in
    records.append(referral("EQ-BAD-1", requester_email="not an email", local_authority="Atlantis"))
    records.append(referral("EQ-BAD-2", decision_letter_sent_on="2031-01-01"))
    records.append(referral("EQ-BAD-3", service="unknown"))
    # a form id repeated in the same drop (a duplicate), and reused for another child (rejected)
    records.append(referral("EQ-001"))
    records.append(referral("EQ-002", child_name="Somebody Else", child_date_of_birth="2009-09-09"))
    records.append(dict(records[5]))  # the very same form again: a duplicate
    records.append(referral("EQ-DRS-1", service="drs", decision_type="", decision_letter_sent_on=""))
    return records


def _second_drop() -> list[dict]:
    return [
        _first_drop()[7],  # imported before: a duplicate
        referral("EQ-003"),  # imported before for another child: rejected
        referral(
            "EQ-NEW-1",
            child_name="Child 0 Testperson",
            child_date_of_birth="2010-01-10",
            decision_letter_sent_on="2026-10-01",
            local_authority="Salford",
        ),
        referral("EQ-NEW-2", child_name="Brand New", child_date_of_birth="2014-04-04", wants_mediation="yes"),
        referral("EQ-BAD-4", child_date_of_birth="not a date"),
    ]


def _value(value) -> object:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):  # SQLite gives naive UTC, PostgreSQL aware
        return (value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    return str(value)


def _dump(url: str) -> dict[str, list[list]]:
    from tasks.db import engine_for

    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine, only=list(TABLES))
    out = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            cols = [c for c in table.columns if c.name not in IGNORED]
            rows = conn.execute(select(*cols).order_by(table.c.id)).all()
            out[name] = [[c.name for c in cols]] + [[_value(v) for v in row] for row in rows]
    return out


def _run(drs, tmp_path: Path) -> dict:
    first, second = tmp_path / "first.csv", tmp_path / "second.json"
    write_csv(first, _first_drop())
    second.write_text(json.dumps(_second_drop()))
    docs = [drs("intake", str(path), "--today", TODAY, "--json").json() for path in (first, second)]
    rejected = tmp_path / "home" / "inbox" / "referrals" / "rejected"
    reports = {}
    for path in sorted(rejected.glob("*.errors.json")):
        report = json.loads(path.read_text())
        report.pop("checked_at", None)
        reports[path.name] = report
    return {"summaries": docs, "reports": reports}


def test_the_batched_import_writes_what_the_per_record_import_wrote(drs, las, drs_env, tmp_path):
    from tasks.settings import get_settings

    got = _run(drs, tmp_path)
    got["tables"] = _dump(get_settings().db_url)
    got = json.loads(json.dumps(got).replace(str(tmp_path), "<tmp>"))  # the drops' paths
    if os.environ.get("WRITE_INTAKE_SNAPSHOT") and get_settings().db_url.startswith("sqlite"):
        SNAPSHOT.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(SNAPSHOT.read_text())
    assert got["summaries"] == want["summaries"]
    assert got["reports"] == want["reports"]
    for name in TABLES:
        assert got["tables"][name] == want["tables"][name], _first_difference(
            name, got["tables"][name], want["tables"][name]
        )


def _first_difference(name: str, got: list[list], want: list[list]) -> str:
    if len(got) != len(want):
        return f"{name}: {len(got) - 1} rows, {len(want) - 1} expected"
    for row, expected in zip(got, want, strict=True):
        if row != expected:
            columns = got[0]
            return f"{name} row {row[0]}: " + ", ".join(
                f"{c}={a!r} (expected {b!r})" for c, a, b in zip(columns, row, expected, strict=False) if a != b
            )
    return name


def test_a_batch_numbers_past_99999_and_falls_back_one_by_one_when_the_database_refuses_it(drs, las, tmp_path):
    from sqlalchemy import func, update

    from models.db import Case, OutboxEmail
    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email
    from tests.integration.test_foundation_cli import make_case

    first = make_case("Salford", letter=date(2026, 11, 2), received=date(2026, 11, 9))
    with unit_of_work() as db:
        db.execute(update(Case).where(Case.ref == first).values(ref="DRS-2026-99999"))
        # an email already queued under the key the batch's second case would use: the unique key refuses
        # the batch, which is rolled back whole and imported one by one (the email is not queued twice)
        queue_email(db, key="ack:DRS-2026-100001", kind="acknowledgement", to="x@families.example",
                    subject="s", text="t", now=datetime(2026, 11, 20, tzinfo=UTC))  # fmt: skip
        db.commit()
    drop = tmp_path / "drop.json"
    drop.write_text(json.dumps([referral(f"BD-{n}", child_name=f"Child {n}") for n in range(3)]))
    doc = drs("intake", str(drop), "--today", TODAY, "--json").json()
    assert [(r["status"], r["case_ref"]) for r in doc["results"]] == [
        ("imported", "DRS-2026-100000"),
        ("imported", "DRS-2026-100001"),
        ("imported", "DRS-2026-100002"),
    ]
    with unit_of_work() as db:
        keys = db.scalars(select(OutboxEmail.key).where(OutboxEmail.key.like("ack:%"))).all()
        assert sorted(keys) == ["ack:DRS-2026-100000", "ack:DRS-2026-100001", "ack:DRS-2026-100002"]
        assert db.scalar(select(func.count()).select_from(Case)) == 4

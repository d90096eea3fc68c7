"""Torture: hostile referral and claim files, and kill -9 at random points of intake.

Invariants checked after every example/trial (SQLite, and PostgreSQL when DRS_TEST_POSTGRES_URL is set):
- every record ends imported, duplicate or rejected (claims: a decision, duplicate or invalid) —
  one result per record of a readable file, one rejected result for a file that cannot be read;
- the counts add up, and the database holds exactly the records reported imported;
- no file is left claimed or temporary, nothing is left in the inbox's root.
Small by default (well under a minute); `DRS_TORTURE=large` (`make torture`) runs many more
examples, bigger files and a real 1 GB xlsx bomb.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models.db import Case, ExpenseClaim, Referral
from tasks.db import unit_of_work
from tests.intake_samples import CSV_COLUMNS, flat_row, referral, settle

LARGE = os.environ.get("DRS_TORTURE") == "large"
EXAMPLES = 150 if LARGE else 6
TRIALS = 20
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
SEQ = count(1)
TALLY = {
    "referral files": 0,
    "unreadable referral files": 0,
    "referral records": 0,
    "claim files": 0,
    "unreadable claim files": 0,
    "claim records": 0,
    "intake runs": 0,
    "killed with SIGKILL": 0,
}


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    print("\ntorture figures:", json.dumps(TALLY))  # for the notes' Reliability figures (pytest -s)


HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "=cmd|' /C calc'!A0",
            "\u202eevil\u202c",
            "\x00\x01\x1b[31m",
            "👪" * 30,
            "𝔄𝔟𝔠",
            "  ",
            "Robert'); DROP TABLE cases;--",
            "<script>alert(1)</script>",
            "\r\n\r\n",
            "x" * 5000,
            "2026-02-30",
            "31/12/1899",
            "9" * 40,
            "-1",
            "NaN",
            "Infinity",
            "null",
            "true",
        ]
    ),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FIELDS = CSV_COLUMNS


@st.composite
def referral_record(draw, prefix: str):
    """(nested JSON record, kind) — kind "valid" (a correct referral) or "hostile" (any field mangled)."""
    n = draw(st.integers(0, 30))
    form_id = f"{prefix}-{n}"
    record = referral(form_id, child_name=f"Child {prefix} {n}")
    if draw(st.booleans()):
        return record, "valid"
    flat = flat_row(record)
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        flat[field] = draw(HOSTILE_VALUE)
    if draw(st.booleans()):
        flat["form_id"] = form_id  # keep an id half the time so duplicates and conflicts happen
    return flat, "hostile"


def _xlsx_safe(value):
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")[:3000]
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def _csv_cell(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else str(value)


def render(records: list[dict], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(records, allow_nan=True).encode()
    rows = [r if "requester_name" in r else flat_row(r) for r in records]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=",;\t"[len(rows) % 3])
        writer.writerow(FIELDS)
        for row in rows:
            cells = [_csv_cell(row.get(c)) for c in FIELDS]
            if not any(c.strip() for c in cells):
                cells[0] = "blank-guard"
            writer.writerow(cells)
        return buf.getvalue().encode("utf-8")
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(FIELDS)
    for row in rows:
        cells = [_xlsx_safe(row.get(c)) for c in FIELDS]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            cells[0] = "blank-guard"
        wb.active.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GARBAGE = st.one_of(
    st.binary(max_size=300).map(lambda b: b"{" + b),  # not JSON
    st.integers(2_000, 60_000).map(lambda d: b"[" * d + b"]" * d),  # nesting
    st.binary(min_size=1, max_size=300).map(lambda b: b"PK\x03\x04" + b),  # a broken zip
)


@st.composite
def inbox_files(draw, prefix: str):
    """[(name, bytes, expected records or None for an unreadable file, kinds, form ids of hostile records)]."""
    files = []
    for i in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            ext = draw(st.sampled_from(["json", "xlsx"]))
            files.append((f"{prefix}-{i}.{ext}", draw(GARBAGE), None, [], []))
            continue
        fmt = draw(st.sampled_from(["json", "csv", "xlsx"]))
        pairs = draw(st.lists(referral_record(prefix), min_size=1, max_size=25 if LARGE else 6))
        hostile = [str(p[0].get("form_id")).strip() for p in pairs if p[1] == "hostile"]
        files.append(
            (f"{prefix}-{i}.{fmt}", render([p[0] for p in pairs], fmt), len(pairs), [p[1] for p in pairs], hostile)
        )
    return files


def _inbox(home: Path, name: str) -> Path:
    path = home / "inbox" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_nothing_left(inbox: Path) -> None:
    assert [p.name for p in (inbox / ".claimed").iterdir()] == []
    assert [p.name for p in inbox.iterdir() if p.name not in ("processed", "rejected", ".claimed", ".leases")] == []
    assert [p.name for p in (inbox / "rejected").iterdir() if p.name.startswith(".tmp.")] == []


@pytest.fixture
def torture_env(drs_env, las, monkeypatch):
    monkeypatch.setenv("DRS_INBOX_STABLE_SECONDS", "0")
    return drs_env


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LARGE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_hostile_referral_files(torture_env, data):
    from tasks.intake.referral_intake import import_referral_files

    prefix = f"H{next(SEQ)}"
    inbox = _inbox(torture_env.home, "referrals")
    files = data.draw(inbox_files(prefix))
    hostile = {fid for *_, ids in files for fid in ids}
    files = [(name, content, expected, kinds) for name, content, expected, kinds, _ in files]
    for name, content, _, _ in files:
        settle_write(inbox / name, content)
    with unit_of_work() as db:
        before = db.scalar(select(func.count()).select_from(Referral))
    doc = import_referral_files(today=TODAY, now=NOW).document()
    results = doc["results"]
    TALLY["referral files"] += len(files)
    TALLY["unreadable referral files"] += sum(1 for f in files if f[2] is None)
    TALLY["referral records"] += sum(f[2] or 0 for f in files)
    assert doc["imported"] + doc["duplicates"] + doc["rejected"] == len(results)
    for name, _, expected, kinds in files:
        mine = [r for r in results if r["source"] == name]
        report = inbox / "rejected" / f"{name}.errors.json"
        if expected is None:  # garbage: one rejected result naming why, a copy and its .errors.json
            assert len(mine) == 1 and mine[0]["status"] == "rejected" and mine[0]["errors"], (name, mine)
            assert json.loads(report.read_text())["readable"] is False
            continue
        assert len(mine) == expected, (name, expected, mine)  # every record accounted for
        for result, kind in zip(mine, kinds):
            assert result["status"] in ("imported", "duplicate", "rejected")
            if kind == "valid" and result["form_id"] not in hostile:
                assert result["status"] in ("imported", "duplicate"), result
        if any(r["status"] == "rejected" for r in mine):
            assert report.exists()
    with unit_of_work() as db:
        stored = db.scalars(select(Referral.form_id)).all()  # hostile ids need not keep the prefix
        cases = db.scalar(select(func.count()).select_from(Case))
        after = db.scalar(select(func.count()).select_from(Referral))
    assert len(stored) == len(set(stored)) == after  # no form imported twice
    assert doc["imported"] == after - before
    assert cases == after  # one case per imported referral, never two
    assert_nothing_left(inbox)


def settle_write(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    settle(path)


@st.composite
def claim_records(draw, prefix: str, case_ref: str):
    n = draw(st.integers(0, 20))
    record = {
        "claim_id": f"{prefix}-{n}",
        "case_ref": case_ref,
        "session_date": "2026-11-10",
        "claimant_name": "Parent 1 Example",
        "claimant_email": "parent1@families.example.org",
        "category": "mileage",
        "miles": str(draw(st.integers(0, 60))),
        "amount": "",
        "receipt": "no",
        "description": "",
    }
    for field in draw(st.lists(st.sampled_from(sorted(record)), max_size=3, unique=True)):
        record[field] = draw(HOSTILE_VALUE)
    return record


@settings(
    max_examples=max(6, EXAMPLES // 2),
    deadline=None,
    derandomize=not LARGE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_hostile_claim_files(torture_env, data):
    from tasks.claims.claims_in import import_claims
    from tests.integration.test_claims_support import make_case

    global CLAIM_CASE
    if "CLAIM_CASE" not in globals() or CLAIM_CASE[0] != torture_env.home:
        CLAIM_CASE = (torture_env.home, make_case("E08000006", 1))
    case_ref = CLAIM_CASE[1]
    prefix = f"C{next(SEQ)}"
    inbox = _inbox(torture_env.home, "claims")
    files = []
    for i in range(data.draw(st.integers(1, 4))):
        if data.draw(st.integers(0, 3)) == 0:
            files.append((f"{prefix}-{i}.json", data.draw(GARBAGE), None))
            continue
        records = data.draw(st.lists(claim_records(prefix, case_ref), min_size=1, max_size=8))
        fmt = data.draw(st.sampled_from(["json", "csv"]))
        if fmt == "json":
            content = json.dumps(records).encode()
        else:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(records[0]))
            writer.writeheader()
            for r in records:
                row = {k: _csv_cell(v) for k, v in r.items()}
                if not any(v.strip() for v in row.values()):
                    row["claim_id"] = "blank-guard"
                writer.writerow(row)
            content = buf.getvalue().encode()
        files.append((f"{prefix}-{i}.{fmt}", content, len(records)))
    for name, content, _ in files:
        settle_write(inbox / name, content)
    with unit_of_work() as db:
        before = db.scalar(select(func.count()).select_from(ExpenseClaim))
    doc = import_claims(None, TODAY, NOW)
    results = doc["results"]
    TALLY["claim files"] += len(files)
    TALLY["unreadable claim files"] += sum(1 for f in files if f[2] is None)
    TALLY["claim records"] += sum(f[2] or 0 for f in files)
    assert doc["imported"] + doc["updated"] + doc["duplicates"] + doc["invalid"] == len(results)
    assert doc["approved"] + doc["query"] + doc["held"] + doc["rejected"] == doc["imported"] + doc["updated"]
    for name, _, expected in files:
        mine = [r for r in results if r["source"] == name]
        if expected is None or (
            len(mine) == 1
            and mine[0]["status"] == "invalid"
            and (inbox / "rejected" / f"{name}.errors.json").exists()
            and json.loads((inbox / "rejected" / f"{name}.errors.json").read_text())["readable"] is False
        ):
            assert len(mine) == 1 and mine[0]["status"] == "invalid"
            continue
        assert len(mine) == expected, (name, mine)
    with unit_of_work() as db:
        after = db.scalar(select(func.count()).select_from(ExpenseClaim))
    assert after - before == doc["imported"]
    assert_nothing_left(inbox)


# --- kill -9 ------------------------------------------------------------------------------------

# A warmed-up process that forks one `drs intake` per trial: each child is killed with SIGKILL at a
# random moment of its run (the imports are done once, so the kills land in intake, not in start-up).
ZYGOTE = r"""
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped at once: a killed one is gone
from cli.main import main
import openpyxl, sqlalchemy, tasks.intake.referral_intake, tasks.intake.records, tasks.intake.inbox_run, tasks.cases.casework  # noqa
import models.domain.referrals, tasks.intake.emails, tasks.mail.outbox  # noqa
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        sys.stdin.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        sys.argv = ["drs", "intake", "--today", "2026-11-23"]
        try:
            main()
        finally:
            os._exit(0)
    print(pid, flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_kill_9_at_random_points_of_intake_loses_nothing(torture_env):
    from tasks.intake.referral_intake import import_referral_files

    rng = random.Random(20261123)
    inbox = _inbox(torture_env.home, "referrals")
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    files_per_trial, per_file = (6, 40) if LARGE else (2, 2)
    expected: set[str] = set()
    zygote = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE],
        env=env,
        cwd=os.getcwd(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )

    def spawn() -> int:
        zygote.stdin.write("go\n")
        zygote.stdin.flush()
        return int(zygote.stdout.readline())

    def drop_files(trial: int) -> None:
        for f in range(files_per_trial):
            records = [referral(f"K{trial}-{f}-{n}", child_name=f"Child {trial} {f} {n}") for n in range(per_file)]
            expected.update(r["form_id"] for r in records)
            if f == 0:  # a rejected record too
                records.append(flat_row(referral(f"K{trial}-bad", service="nonsense")))
            fmt = rng.choice(["json", "csv", "xlsx"])
            settle_write(inbox / f"t{trial}-{f}.{fmt}", render(records, fmt))
        if rng.random() < 0.3:
            settle_write(inbox / f"t{trial}-garbage.xlsx", b"PK\x03\x04broken")

    def check(trial: int) -> None:
        doc = import_referral_files(today=TODAY, now=NOW, interval=0).document()  # the next normal run
        assert doc["imported"] + doc["duplicates"] + doc["rejected"] == len(doc["results"])
        assert_nothing_left(inbox)
        with unit_of_work() as db:
            stored = db.scalars(select(Referral.form_id)).all()
            cases = db.scalar(select(func.count()).select_from(Case))
        assert len(stored) == len(set(stored)), "a referral imported twice"
        assert set(stored) == expected, f"trial {trial}: lost {sorted(expected - set(stored))[:5]}"
        assert cases == len(stored), "a duplicate case"

    try:
        assert zygote.stdout.readline().strip() == "ready"
        drop_files(-1)  # calibration: how long one whole run takes here
        started, pid = time.monotonic(), spawn()
        while _alive(pid) and time.monotonic() - started < 60:
            time.sleep(0.01)
        span = time.monotonic() - started
        check(-1)
        killed = 0
        for trial in range(TRIALS):
            drop_files(trial)
            pid = spawn()
            time.sleep(rng.uniform(0, 0.8 * span))
            TALLY["intake runs"] += 2
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
                TALLY["killed with SIGKILL"] += 1
            except ProcessLookupError:  # it had finished
                pass
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.005)
            check(trial)
    finally:
        zygote.kill()
        zygote.wait()
    assert killed >= TRIALS // 4, f"only {killed} of {TRIALS} runs were killed mid-run"


@pytest.mark.skipif(not LARGE, reason="DRS_TORTURE=large: a real 1 GB xlsx bomb")
def test_a_real_xlsx_bomb_is_refused_quickly_in_little_memory(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/sharedStrings.xml", "w") as out:
            block = b"\0" * (1 << 20)
            for _ in range(1024):
                out.write(block)
    assert path.stat().st_size < 2 * 1024 * 1024
    script = (
        "import resource, sys, time; from pathlib import Path; from tasks import inbox_files as inf\n"
        "t = time.monotonic()\n"
        "try:\n    inf.read_records(Path(sys.argv[1]))\nexcept inf.UnreadableFile as e:\n    print('refused:', e)\n"
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60, cwd=os.getcwd()
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("refused:"), out
    seconds, rss_kb = lines[-1].split()
    assert float(seconds) < 5 and int(rss_kb) < 300 * 1024


@pytest.mark.skipif(not LARGE, reason="DRS_TORTURE=large: a 60 MB inline string inside the unpack limit")
def test_a_huge_inline_string_within_the_unpack_limit_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "inline.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with zf.open("xl/worksheets/sheet1.xml", "w") as out:
            out.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>form_id</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>'
            )
            for _ in range(60):
                out.write(b"a" * (1 << 20))
            out.write(b"</t></is></c></row></sheetData></worksheet>")
    assert path.stat().st_size < 1024 * 1024
    script = (
        "import resource, sys, time; from pathlib import Path; from tasks import inbox_files as inf\n"
        "t = time.monotonic()\n"
        "try:\n    inf.read_records(Path(sys.argv[1]))\nexcept inf.UnreadableFile as e:\n    print('refused:', e)\n"
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60, cwd=os.getcwd()
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("refused:") and "longer than" in lines[0], out
    seconds, rss_kb = lines[-1].split()
    assert float(seconds) < 10 and int(rss_kb) < 300 * 1024

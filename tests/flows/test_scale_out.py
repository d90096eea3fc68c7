"""Scale-out on PostgreSQL: two task workers and two intake runs at once over one inbox and outbox.

Every process is separate (as on separate machines, sharing the database, the inbox folder and the
Prefect server): no referral file is taken twice, no case is opened twice, no email is sent twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import Case, OutboxEmail, Referral
from tasks.db import unit_of_work
from tests.intake_samples import referral, write_json

pytestmark = pytest.mark.flow
REPO = Path(__file__).resolve().parents[2]
FILES = 30
WORKER = "from flows.delivery import serve_delivery_worker; serve_delivery_worker()"
#: An intake "machine": runs referral-intake again and again until told the last file is written.
INTAKE = """
import json, pathlib, time
from datetime import date
from flows.intake import referral_intake
done = pathlib.Path({done!r})
while True:
    finished = done.exists()
    print('RESULT ' + json.dumps(referral_intake(today=date(2026, 11, 23))), flush=True)
    if finished:
        break
    time.sleep(0.2)
"""


def _spawn(code: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        stdout=open(log, "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        process_group=0,
    )


def test_two_workers_and_two_intake_runs_take_each_file_once_and_send_each_email_once(
    prefect_harness, drs_env, las, smtp_server, tmp_path
):
    if not drs_env.db_url.startswith("postgresql"):
        pytest.skip("the scale-out test runs on PostgreSQL (FOR UPDATE SKIP LOCKED)")
    from prefect.settings import PREFECT_API_URL

    from tasks.mail.delivery import deliver_pending
    from tasks.timekeeping import resolve_now

    inbox = drs_env.home / "inbox" / "referrals"
    inbox.mkdir(parents=True, exist_ok=True)
    done = tmp_path / "all-written"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONUNBUFFERED": "1"}
    workers = [_spawn(WORKER, env, tmp_path / f"worker-{i}.log") for i in range(2)]
    swept = 0
    try:
        time.sleep(4)  # both workers subscribed before any email is queued
        runs = [_spawn(INTAKE.format(done=str(done)), env, tmp_path / f"intake-{i}.log") for i in range(2)]
        for n in range(FILES):  # referrals keep arriving while both intake machines poll the inbox
            path = write_json(
                inbox / f"form-{n:03d}.json",
                referral(
                    f"TT-S{n:03d}",
                    wants_mediation="yes",
                    child_name=f"Child {n} Scaleout",
                    child_date_of_birth=f"2014-{1 + n % 12:02d}-{1 + n:02d}",
                ),
            )
            os.utime(path, (time.time() - 60, time.time() - 60))  # settled: not being written any more
            time.sleep(0.25)
            if n % 5 == 0:  # and the deliver-email sweep races the task workers for the same rows
                swept += deliver_pending(resolve_now()[1]).sent
        done.touch()
        for run in runs:
            run.wait(timeout=120)
        logs = [(tmp_path / f"intake-{i}.log").read_text() for i in range(2)]
        assert [r.returncode for r in runs] == [0, 0], logs
        results = [[json.loads(line[7:]) for line in text.splitlines() if line.startswith("RESULT ")] for text in logs]
        per_machine = [sum(len(r["results"]) for r in machine) for machine in results]
        results = [r for machine in results for r in machine]

        def waiting() -> int:
            with unit_of_work() as db:
                return db.scalar(
                    select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status.in_(("pending", "sending")))
                )

        deadline = time.monotonic() + 90
        while waiting() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert waiting() == 0, [(tmp_path / f"worker-{i}.log").read_text()[-2000:] for i in range(2)]
    finally:
        done.touch()
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGINT)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)

    # each file was taken by exactly one run, each record imported once
    sources = [r["source"] for result in results for r in result["results"]]
    assert Counter(r["status"] for result in results for r in result["results"]) == {"imported": FILES}, results
    assert len(sources) == FILES and len(set(sources)) == FILES
    assert sum(result["imported"] for result in results) == FILES
    assert sum(result["duplicates"] for result in results) == 0
    processed = sorted(p.name for p in (inbox / "processed").iterdir())
    assert len(processed) == FILES
    assert not [p for p in inbox.iterdir() if p.is_file()]
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == FILES
        assert db.scalar(select(func.count(func.distinct(Referral.form_id)))) == FILES
        outbox = db.execute(select(OutboxEmail.key, OutboxEmail.status, OutboxEmail.claimed_by)).all()
    # each email was sent once: the SMTP server saw every outbox row exactly once
    assert {status for _, status, _ in outbox} == {"sent"}
    message_ids = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert len(smtp_server.messages) == len(outbox) and max(message_ids.values()) == 1
    print(
        f"\n{len(outbox)} emails, {swept} of them by the racing sweep; files per intake machine: "
        f"{per_machine} over {len(results)} runs"
    )

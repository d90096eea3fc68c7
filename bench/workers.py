"""`delivery-workers`: email delivery by 1 and by 2 task workers (`drs worker tasks`) through a
slow relay — the worker path's throughput (issue 18).

The relay (`SmtpSink(delay_s=RELAY_DELAY_S)`) answers each message `RELAY_DELAY_S` late, so the
relay, not the CPU, is the limit; each task worker runs one batch at a time (`--limit 1`: one
connection each). The outbox is queued first; then 1 (baseline) or 2 task workers are started and
the batches handed to them (`enqueue_delivery`); the rate is the relay's own: messages between the
first and the last arrival. Every outbox row must arrive exactly once (0 duplicates).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

RELAY_DELAY_S = 0.4
BATCH = 10
GOAL = "2 task workers ≥ 1.8× one (ratio ≤ 0.56) through a relay taking 0.4 s a message; 0 duplicates"
ENQUEUE = """
import sys
from flows.delivery import enqueue_delivery
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    ids = [row[0] for row in conn.execute(text("select id from outbox where status = 'pending' order by id"))]
print(enqueue_delivery(ids, batch_size=int(sys.argv[2])))
"""


def _task_workers_connected(api_url: str) -> set[str]:
    """The identifiers of the task workers the server lists now (a stopped one may linger a while)."""
    import httpx

    response = httpx.post(f"{api_url}/task_workers/filter", json={}, timeout=10)
    response.raise_for_status()
    return {str(worker.get("identifier")) for worker in response.json()}


def deliver_with(bench, empty_url: str, sink, workers: int, n: int) -> tuple[float, int]:
    """(messages a second at the relay, duplicates) for `n` emails delivered by `workers` task workers."""
    from bench.run import DRS, PY

    home = bench.home(f"delivery-workers-{workers}")
    url = bench.store.copy(empty_url, home)
    bench.queue_emails(url, home, n)
    sink.clear()
    env = bench.env(
        home,
        url,
        prefect=True,
        DRS_DATABASE_URL=url,
        DRS_SMTP_HOST="127.0.0.1",
        DRS_SMTP_PORT=str(sink.port),
        DRS_SMTP_SECURITY="none",
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "results"),
    )
    before = _task_workers_connected(bench.api_url)
    procs = []
    try:
        for k in range(workers):
            log = (home / f"task-worker-{k}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [DRS, "worker", "tasks", "--no-watch", "--limit", "1"],
                    env=env,
                    cwd=home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                )
            )
        deadline = time.monotonic() + 120
        while len(_task_workers_connected(bench.api_url) - before) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"delivery-workers: the task workers did not start (see {home})")
            time.sleep(0.5)
        subprocess.run([PY, "-c", ENQUEUE, url, str(BATCH)], env=env, cwd=home, check=True, capture_output=True)
        deadline = time.monotonic() + 60 + n * RELAY_DELAY_S * 2
        while sink.count < n and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    times, ids = sink.arrivals(), list(sink.message_ids)
    if len(set(ids)) != n:
        raise RuntimeError(f"delivery-workers: {len(set(ids))} of {n} emails arrived ({workers} task workers)")
    return (len(times) - 1) / (times[-1] - times[0]), len(ids) - len(set(ids))


def measure_delivery_workers(bench, empty_url: str) -> None:
    from bench.run import Row
    from bench.smtp_sink import SmtpSink

    n = 40 if bench.scale.factor < 1 else 100  # an even number of batches of BATCH: 2 workers share them evenly
    with SmtpSink(delay_s=RELAY_DELAY_S) as sink:
        one, dup_one = deliver_with(bench, empty_url, sink, 1, n)
        two, dup_two = deliver_with(bench, empty_url, sink, 2, n)
    bench.add(
        Row(
            "delivery-workers",
            two,
            "msg/s",
            one,
            one / two,
            0.0,
            GOAL,
            f"{n} emails: 2 task workers {two / one:.2f}× one; duplicates {dup_one + dup_two}; "
            + json.dumps({"one": round(one, 2), "two": round(two, 2)}),
        )
    )

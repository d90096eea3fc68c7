"""Torture for delivery (issue 12 §2), on SQLite and PostgreSQL, with a real aiosmtpd server.

1. A flaky server: 4xx replies, 5xx refusals, connections dropped at EHLO, at RCPT and after the
   whole message (accept-then-drop), 421 greetings, and sweeps with the port refusing — all on a
   seeded schedule, then healthy. Every email is accepted (250) exactly once, except the ones with
   their own 5xx, which end failed after one attempt with the team told once. Every copy the server
   saw of an email carries that row's Message-ID.
2. kill -9 at random points of `drs mail deliver` (20 seeded trials): at a connection, at RCPT, with
   the message received but not yet answered, just after the 250, or after a random delay. Then a
   normal run at the same `now`: nothing lost; at most one email per trial (the one in flight) is
   accepted twice, and then with the same Message-ID.

Small by default (seconds); `DRS_TORTURE=large` runs more emails, seeds and trials.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.settings import get_settings
from tests.smtp_faults import FaultyHandler, FaultyServer, free_port

LARGE = os.environ.get("DRS_TORTURE") == "large"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM = "team@service.example.org"
REPO = Path(__file__).resolve().parents[2]

#: charged faults a flaky email may meet before the server turns healthy (< MAX_ATTEMPTS = 6)
TRANSIENT_FAULTS = [
    ("rcpt", "451"),
    ("rcpt", "452"),
    ("rcpt", "421"),
    ("rcpt", "drop"),
    ("data", "451"),
    ("data", "drop"),
]


def _queue(addresses: list[str], prefix: str) -> None:
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        for n, address in enumerate(addresses):
            queue_email(
                db,
                key=f"{prefix}:{n}",
                kind="torture",
                to=address,
                subject=f"Torture {n}",
                text=f"Message {n}.\n",
                now=NOW,
            )
        db.commit()


def _rows(prefix: str = "") -> dict[str, tuple]:
    with unit_of_work() as db:
        return {
            r.to_addr: (r.status, r.attempts, r.message_id, r.outcome, r.smtp_code)
            for r in db.scalars(select(OutboxEmail).where(OutboxEmail.key.like(f"{prefix}%")))
        }


def _point_at(port: int) -> None:
    os.environ["DRS_SMTP_PORT"] = str(port)
    get_settings.cache_clear()


@pytest.fixture
def smtp_env(drs_env, monkeypatch):
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    monkeypatch.setenv("DRS_SMTP_PORT", "25")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("seed", range(3) if LARGE else [2026])
def test_flaky_smtp_delivers_every_email_once_except_its_own_5xx(smtp_env, seed):
    from tasks.mail.delivery import deliver_pending

    rng = random.Random(seed)
    size = 400 if LARGE else 40
    addresses = [f"family{n}@families.example" for n in range(size)]
    permanent = set(rng.sample(addresses, size // 10))
    handler = FaultyHandler()
    injected: Counter[str] = Counter()
    for address in addresses:
        if address in permanent:
            handler.always[address] = rng.choice([("rcpt", "550"), ("data", "554")])
            injected[f"5xx at {handler.always[address][0]}"] += 1
            continue
        for stage, action in rng.choices(TRANSIENT_FAULTS, k=rng.randint(0, 3)):
            handler.script.setdefault((address, stage), []).append(action)
            injected[f"{action} at {stage}"] += 1
    handler.connections[:] = [rng.choice(["ok", "ok", "drop", "421"]) for _ in range(size // 2)]
    injected["connection faults at EHLO"] = sum(a != "ok" for a in handler.connections)
    server = FaultyServer(handler).start()
    refused_port = free_port()
    _queue(addresses, "flaky")
    try:
        now, sweeps = NOW, 0
        while True:
            down = sweeps < 12 and rng.random() < 0.2
            injected["sweeps with the port refusing"] += down
            _point_at(refused_port if down else server.port)
            summary = deliver_pending(now)
            sweeps += 1
            if summary.remaining == 0 and not down:
                break
            assert sweeps < 200, "delivery did not converge"
            now += timedelta(hours=5)  # past every back-off
    finally:
        server.stop()
    rows = _rows("flaky")
    for address in addresses:
        status, attempts, message_id, outcome, code = rows[address]
        seen = {m["Message-ID"] for m in handler.received_to(address)}
        assert seen <= {message_id}, address  # every copy, even unconfirmed ones, has the row's id
        if address in permanent:
            assert (status, attempts, outcome) == ("bounced", 1, "permanent") and code >= 500, address  # a hard bounce
            assert handler.accepted_to(address) == []
        else:
            assert status == "sent", (address, rows[address])
            assert len(handler.accepted_to(address)) == 1, address
    notices = [m for m in handler.accepted_to(TEAM) if "could not be delivered" in m["Subject"]]
    assert len(notices) == len(permanent)
    assert len({m["Subject"] for m in notices}) == len(permanent)
    with unit_of_work() as db:
        assert set(db.scalars(select(OutboxEmail.status))) <= {"sent", "failed", "bounced"}
    injected["sweeps"] = sweeps
    print(
        f"\nflaky smtp seed={seed}: {size} emails, faults {dict(injected)}, "
        f"{len(handler.received)} messages received, {len(handler.accepted)} accepted"
    )


class Zygote:
    """`python -m tests.torture.zygote`: forks `drs …` children on request (see its docstring)."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.torture.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.getcwd(),
        )

    def start(self, *argv: str) -> int:
        self.proc.stdin.write(json.dumps(["drs", *argv]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["pid"]

    def wait(self) -> int:
        line = self.proc.stdout.readline()
        assert line, "the zygote died"
        return json.loads(line)["status"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


KILL_POINTS = ["ehlo", "rcpt", "data", "accepted", "timer"]


def test_kill_9_during_delivery_loses_nothing(smtp_env):
    from tasks.mail.delivery import deliver_pending

    rng = random.Random(12)
    trials, per_trial = (100, 10) if LARGE else (20, 5)
    handler = FaultyHandler()
    server = FaultyServer(handler).start()
    _point_at(server.port)
    zygote = Zygote()
    target: dict = {}

    def kill_now() -> None:
        pid = target.pop("pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def on_stage(stage: str, rcpt: str) -> None:
        if not target or stage != target["stage"]:
            return
        if stage in ("rcpt", "data", "accepted") and not rcpt.startswith(target["prefix"]):
            return
        target["countdown"] -= 1
        if target["countdown"] < 0:
            if stage == "accepted":  # just after the 250: before or after the sender records it
                threading.Timer(target["delay"], kill_now).start()
            else:
                kill_now()

    handler.on_stage = on_stage
    figures: Counter[str] = Counter()
    try:
        for trial in range(trials):
            prefix = f"t{trial}-"
            addresses = [f"{prefix}{n}@families.example" for n in range(per_trial)]
            _queue(addresses, f"kill{trial}")
            point = rng.choice(KILL_POINTS)
            figures[f"kill at {point}"] += 1
            pid = zygote.start("mail", "deliver", "--json", "--now", NOW.isoformat())
            target.update(
                pid=pid,
                stage=point,
                prefix=prefix,
                delay=rng.uniform(0, 0.02),
                countdown=0 if point == "ehlo" else rng.randrange(per_trial),
            )
            if point == "timer":
                threading.Timer(rng.uniform(0.0, 0.3), kill_now).start()
            t0 = time.perf_counter()
            status = zygote.wait()
            figures["child ms"] += int((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            target.clear()
            killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            figures["killed"] += killed
            deliver_pending(NOW)  # the normal run after the crash, at the same time
            for _ in range(5):  # on PostgreSQL the killed client's backend may still hold a row lock for a
                if not any(r[0] != "sent" for r in _rows(f"kill{trial}").values()):  # moment: SKIP LOCKED
                    break  # leaves that row to the next sweep, as in production
                time.sleep(0.5)
                deliver_pending(NOW)
            figures["rerun ms"] += int((time.perf_counter() - t0) * 1000)
            rows = _rows(f"kill{trial}")
            doubles = []
            for address in addresses:
                status_, attempts, message_id, outcome, _ = rows[address]
                accepted = handler.accepted_to(address)
                assert status_ == "sent" and accepted, (trial, point, address, rows[address])
                assert {m["Message-ID"] for m in accepted} == {message_id}, (trial, address)
                if len(accepted) > 1:
                    doubles.append(address)
                assert len(accepted) <= 2, (trial, address)
            assert len(doubles) <= 1, (trial, point, doubles)  # only the one in flight
            figures["in-flight duplicates (same Message-ID)"] += len(doubles)
            figures["emails"] += per_trial
    finally:
        zygote.close()
        server.stop()
    with unit_of_work() as db:
        assert set(db.scalars(select(OutboxEmail.status))) == {"sent"}
    assert figures["killed"] >= trials // 2, figures  # the kills really happened
    print(f"\nkill -9: {trials} trials, {dict(figures)}")

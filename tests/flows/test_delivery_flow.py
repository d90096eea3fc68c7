"""The `deliver-email` flow and `drs mail deliver` through it, under the Prefect test server."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tests.intake_samples import referral, write_json

pytestmark = pytest.mark.flow
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def queued(drs_env, las, drs):
    inbox = drs_env.home / "inbox" / "referrals"
    write_json(inbox / "a.json", referral("TT-1", wants_mediation="yes"))
    assert drs("intake", "--today", "2026-11-23", "--json").json()["imported"] == 1


def test_deliver_email_flow_sends_what_is_due_over_smtp(prefect_harness, queued, smtp_server):
    from flows.delivery import deliver_email

    assert deliver_email(now=NOW) == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 0}
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "family.tt-1@families.example",
        "sen@salford.example.org",
        "team@service.example.org",
    ]
    assert deliver_email(now=NOW)["sent"] == 0


def test_drs_mail_deliver_runs_the_flow_when_a_server_is_reachable(
    prefect_harness, queued, drs, smtp_server, monkeypatch
):
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    r = drs("mail", "deliver", "--json", "--now", NOW.isoformat())
    assert r.exit_code == 0, r.stderr
    assert "not recorded" not in r.stderr
    assert r.json() == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 0}
    assert len(smtp_server.messages) == 3


@pytest.fixture(scope="module")
def delivery_worker(prefect_harness):
    """One real task worker serving `deliver-outbox-batch` for this module's last tests (a worker
    restarted within one server session waits ~30 s for runs its predecessor was sent)."""
    from prefect.task_worker import TaskWorker

    from flows.delivery import deliver_outbox_batch

    loop = asyncio.new_event_loop()
    done = threading.Event()

    async def serve() -> None:
        await TaskWorker(deliver_outbox_batch).astart()  # must be created inside its loop

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException:  # cancelled at teardown
            pass
        finally:
            done.set()

    thread = threading.Thread(target=run, name="delivery-task-worker", daemon=True)
    thread.start()
    yield
    loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
    done.wait(timeout=15)


def test_intake_flow_queues_delivery_that_a_task_worker_sends(delivery_worker, drs_env, las):
    from flows.intake import referral_intake

    inbox = drs_env.home / "inbox" / "referrals"
    write_json(inbox / "a.json", [referral("TT-1", wants_mediation="yes"), referral("TT-2", child_name="Child Two")])

    def statuses() -> list[str]:
        with unit_of_work() as db:
            return list(db.scalars(select(OutboxEmail.status)))

    assert referral_intake(today=date(2026, 11, 23))["imported"] == 2
    deadline = time.monotonic() + 60
    while set(statuses()) != {"sent"} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert statuses() == ["sent"] * 5  # delivered by the background task, not by the flow or a sweep
    sent = sorted(p.name for p in (drs_env.home / "outbox" / "sent").iterdir())
    assert len(sent) == 5 and all(name.startswith("outbox-") and name.endswith(".eml") for name in sent)

"""SMTP outcomes per message against a real aiosmtpd server that fails on purpose (issue 12 §2):
4xx transient, 5xx permanent (failed at once, team told once), accept-then-drop unknown (same
Message-ID), dropped/refused connections uncharged; `drs mail retry`; the `today` screen; a killed
delivery's claims taken back; one Message-ID and one `.eml` file per row."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import AuditEntry, OutboxEmail
from tasks.db import unit_of_work
from tasks.settings import get_settings
from tests.intake_samples import referral, write_json
from tests.smtp_faults import FaultyHandler, FaultyServer, free_port

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM = "team@service.example.org"


@pytest.fixture
def faulty(drs_env, monkeypatch):
    handler = FaultyHandler()
    server = FaultyServer(handler).start()
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", str(server.port))
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    get_settings.cache_clear()
    yield handler
    server.stop()
    get_settings.cache_clear()


def queue(*addresses: str, kind: str = "test") -> list[int]:
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        rows = [
            queue_email(db, key=f"{kind}:{n}", kind=kind, to=a, subject=f"Test {n}", text="Hello.\n", now=NOW)
            for n, a in enumerate(addresses)
        ]
        db.commit()
        return [r.id for r in rows]


def state(key: str) -> OutboxEmail:
    with unit_of_work() as db:
        row = db.scalar(select(OutboxEmail).where(OutboxEmail.key == key))
        db.expunge(row)
        return row


def deliver(now=NOW, **kwargs):
    from tasks.mail.delivery import deliver_pending

    get_settings.cache_clear()
    return deliver_pending(now, **kwargs).as_dict()


def test_a_4xx_is_transient_retried_after_its_back_off(faulty):
    faulty.script[("a@families.example", "rcpt")] = ["451"]
    queue("a@families.example", "b@families.example")
    assert deliver() == {"sent": 1, "retrying": 1, "failed": 0, "remaining": 1}
    row = state("test:0")
    assert (row.status, row.attempts, row.outcome, row.smtp_code, row.enhanced_status) == (
        "pending",
        1,
        "transient",
        451,
        "4.3.0",
    )
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert "tried again later" in row.last_error
    assert deliver(NOW + timedelta(seconds=30))["sent"] == 0  # the sweep waits for the back-off
    assert deliver(NOW + timedelta(minutes=1))["sent"] == 1
    assert len(faulty.accepted_to("a@families.example")) == 1 and len(faulty.accepted) == 2


@pytest.mark.parametrize("stage,action,code,enhanced", [("rcpt", "550", 550, "5.1.1"), ("data", "554", 554, "5.7.1")])
def test_a_5xx_fails_that_email_at_once_and_tells_the_team_once(faulty, drs, stage, action, code, enhanced):
    faulty.always["bad@families.example"] = (stage, action)
    queue("bad@families.example", "good@families.example")
    assert deliver() == {"sent": 2, "retrying": 0, "failed": 1, "remaining": 0}  # good, then the notice
    row = state("test:0")
    assert (row.status, row.attempts, row.outcome, row.smtp_code, row.enhanced_status) == (
        "bounced",
        1,
        "permanent",
        code,
        enhanced,
    )  # a hard bounce (issue 15): a contact problem
    assert row.last_error.startswith(f"bounced ({enhanced})") and "families.example" not in row.last_error
    assert len(faulty.accepted_to("good@families.example")) == 1  # the others of the run still go
    deliver(NOW + timedelta(hours=6))
    deliver(NOW + timedelta(days=1))
    assert faulty.attempts["bad@families.example"] == 1  # never retried by itself
    (notice,) = faulty.accepted_to(TEAM)
    body = notice.get_body(("plain",)).get_content()
    assert f"#{row.id}" in body and f"({code} {enhanced})" in body and "drs mail retry test:0" in body
    assert "bad@families.example" not in body and "bad@families.example" not in notice["Subject"]
    with unit_of_work() as db:
        actions = [a.action for a in db.scalars(select(AuditEntry))]
    assert actions.count("mail:rejected") == 1


def test_accept_then_drop_is_unknown_and_resent_with_the_same_message_id(faulty):
    faulty.script[("a@families.example", "data")] = ["drop"]
    queue("a@families.example", "b@families.example")
    first = deliver()
    assert first["sent"] == 1 and first["retrying"] == 1  # b went on a new connection
    row = state("test:0")
    assert (row.status, row.attempts, row.outcome) == ("pending", 1, "unknown")
    assert "same Message-ID" in row.last_error
    assert deliver(NOW + timedelta(minutes=1))["sent"] == 1
    copies = faulty.received_to("a@families.example")
    assert len(copies) == 2 and len(faulty.accepted_to("a@families.example")) == 1
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == row.message_id


def test_a_connection_dropped_mid_transaction_charges_only_that_email(faulty):
    faulty.script[("a@families.example", "rcpt")] = ["drop"]
    queue("a@families.example", "b@families.example", "c@families.example")
    assert deliver() == {"sent": 2, "retrying": 1, "failed": 0, "remaining": 1}
    row = state("test:0")
    assert (row.status, row.attempts, row.outcome) == ("pending", 1, "transient")
    assert faulty.received_to("a@families.example") == []


@pytest.mark.parametrize("fault", ["drop", "421"])
def test_a_connection_failing_before_any_message_charges_none(faulty, fault):
    faulty.connections[:] = [fault]
    queue("a@families.example", "b@families.example")
    assert deliver() == {"sent": 0, "retrying": 2, "failed": 0, "remaining": 2}
    for key in ("test:0", "test:1"):
        row = state(key)
        assert (row.status, row.attempts, row.outcome) == ("pending", 0, "unreachable")
    assert faulty.attempts == {}  # the second email was not tried on a server that just failed
    assert deliver() == {"sent": 2, "retrying": 0, "failed": 0, "remaining": 0}


def test_a_server_closing_an_idle_connection_is_reconnected_without_charge(faulty, monkeypatch):
    """The connection is reused for a batch; if the server closed it meanwhile, the mailer
    reconnects once instead of charging the email."""
    from tasks.mail.mailer import OutgoingEmail, SmtpMailer

    mailer = SmtpMailer(get_settings())
    assert mailer.attempt(OutgoingEmail(to="a@families.example", subject="1", text="x")).status == "sent"
    mailer._smtp.sock.close()  # noqa: SLF001 — the idle connection is gone
    outcome = mailer.attempt(OutgoingEmail(to="b@families.example", subject="2", text="x"))
    mailer.close()
    assert outcome.status == "sent" and len(faulty.accepted) == 2


def test_every_row_has_its_own_message_id_and_eml_file(drs_env):
    """Keys that the old sanitising collapsed ("A/1", "A_1", "A.1") get distinct Message-IDs and
    distinct .eml files; names hold the outbox id and kind, never an address or the key."""
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        for claim in ("A/1", "A_1", "A.1", "A:1"):
            queue_email(
                db,
                key=f"claim-query:{claim}",
                kind="claim-query",
                to="payee@families.example",
                subject="Your claim",
                text="x",
                now=NOW,
            )
        db.commit()
    assert deliver()["sent"] == 4
    with unit_of_work() as db:
        ids = {r.id: r.message_id for r in db.scalars(select(OutboxEmail))}
    assert len(set(ids.values())) == 4 and all(m.endswith("@service.example.org>") for m in ids.values())
    files = sorted((drs_env.home / "outbox" / "sent").iterdir())
    assert [f.name for f in files] == [f"outbox-{i:07d}-claim-query.eml" for i in sorted(ids)]
    from email import message_from_bytes, policy

    assert {message_from_bytes(f.read_bytes(), policy=policy.default)["Message-ID"] for f in files} == set(ids.values())


def test_a_row_queued_before_message_ids_gets_one_stored_before_it_is_sent(faulty):
    faulty.script[("a@families.example", "data")] = ["drop"]
    queue("a@families.example")
    with unit_of_work() as db:
        db.scalar(select(OutboxEmail)).message_id = None  # as rows from before revision 0010
        db.commit()
    deliver()
    stored = state("test:0").message_id
    assert stored and deliver(NOW + timedelta(minutes=1))["sent"] == 1
    assert [m["Message-ID"] for m in faulty.received] == [stored, stored]


def test_drs_mail_retry_puts_failed_emails_back(faulty, drs):
    faulty.always["bad@families.example"] = ("rcpt", "550")
    faulty.always["worse@families.example"] = ("rcpt", "550")
    queue("bad@families.example", "worse@families.example")
    deliver()
    r = drs("mail", "retry")
    assert r.exit_code == 2 and "--failed" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = drs("mail", "retry", "no-such-key")
    assert r.exit_code == 2 and "no-such-key" in r.stderr
    assert state("test:0").status == "bounced"  # a 5xx is a hard bounce (issue 15); retry takes it when named
    del faulty.always["bad@families.example"]
    r = drs("mail", "retry", "test:0", "--json", "--now", (NOW + timedelta(hours=1)).isoformat())
    assert r.exit_code == 0, r.stderr
    done = r.json()
    assert [x["key"] for x in done["requeued"]] == ["test:0"] and done["not_failed"] == []
    row = state("test:0")
    assert (row.status, row.attempts, row.requeued) == ("pending", 0, 1)
    assert state("test:1").status == "bounced"
    assert deliver(NOW + timedelta(hours=1))["sent"] >= 1
    assert state("test:0").status == "sent" and len(faulty.accepted_to("bad@families.example")) == 1
    r = drs("mail", "retry", "test:0")  # sent: left alone, said so
    assert r.exit_code == 0 and "not failed" in r.stdout
    r = drs("mail", "retry", "--failed", "--now", (NOW + timedelta(hours=2)).isoformat())
    assert r.exit_code == 0 and "1 email back in the queue" in r.stdout
    assert state("test:1").status == "pending"
    deliver(NOW + timedelta(hours=2))
    assert state("test:1").status == "failed"  # still refused: failed again, and the team told again
    notices = sorted(k for k in _keys() if k.startswith("delivery-failed:"))
    ids = {state(k).id for k in ("test:0", "test:1")}
    assert notices == sorted([f"delivery-failed:{i}" for i in ids] + [f"delivery-failed:{state('test:1').id}:1"])
    with unit_of_work() as db:
        retries = [a.detail for a in db.scalars(select(AuditEntry).where(AuditEntry.action == "mail:retry"))]
    assert len(retries) == 2 and all("families.example" not in str(d) for d in retries)
    from tasks.privacy.retention import ANONYMISED_ADDRESS

    with unit_of_work() as db:  # emptied under the retention policy: never put back
        db.scalar(select(OutboxEmail).where(OutboxEmail.key == "test:1")).to_addr = ANONYMISED_ADDRESS
        db.commit()
    assert "0 emails back in the queue" in drs("mail", "retry", "--failed").stdout
    assert "not failed" in drs("mail", "retry", "test:1").stdout and state("test:1").status == "failed"


def _keys() -> list[str]:
    with unit_of_work() as db:
        return list(db.scalars(select(OutboxEmail.key)))


def test_the_today_screen_links_failed_emails_to_their_case(faulty, drs, las, drs_env):
    inbox = drs_env.home / "inbox" / "referrals"
    inbox.mkdir(parents=True)
    write_json(inbox / "a.json", referral("TT-1"))
    assert drs("intake", "--today", "2026-11-23", "--json").json()["imported"] == 1
    faulty.always["family.tt-1@families.example"] = ("rcpt", "550")
    deliver(NOW + timedelta(hours=1))
    from tasks.operations.today import build_today, render_today

    text = render_today(build_today(date(2026, 11, 23), NOW + timedelta(hours=1)))
    row = state("ack:DRS-2026-00001")
    assert row.status == "bounced"  # refused by the family's server: a contact problem (issue 15), not a retry
    phone = text.split("Phone these families")[1].split("##")[0]
    assert "DRS-2026-00001" in phone and "@" not in phone
    with unit_of_work() as db:  # an email that gave up after its attempts is listed with its retry command
        row = db.get(OutboxEmail, row.id)
        row.status, row.outcome, row.smtp_code, row.enhanced_status, row.last_error = (
            "failed",
            "transient",
            451,
            "4.3.0",
            "the mail server said to try later",
        )
        db.commit()
    text = render_today(build_today(date(2026, 11, 23), NOW + timedelta(hours=1)))
    section = text.split("## Emails that failed")[1].split("##")[0]
    assert f"DRS-2026-00001 — outbox #{row.id} ({row.kind}, 1 attempts)" in section
    assert f"drs mail retry {row.id}" in section
    assert "@" not in section


def test_a_killed_deliverys_claims_are_taken_back_at_once(faulty):
    """A worker of this machine whose process is gone: its `sending` rows are taken back by the
    next run at the same time, uncharged (not after the 15-minute stale limit)."""
    import socket

    from tasks.mail.claiming import claim_due

    a, b = queue("a@families.example", "b@families.example")
    host = socket.gethostname()[:40]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert claim_due(NOW, 10, f"{host}:{os.getpid()}:cafecafe", ids=[a]) == [a]  # alive: this process
    assert claim_due(NOW, 10, f"{host}:{gone.pid}:deadbeef", ids=[b]) == [b]
    assert deliver() == {"sent": 1, "retrying": 0, "failed": 0, "remaining": 1}
    assert (state("test:1").status, state("test:1").attempts) == ("sent", 1)
    assert state("test:0").status == "sending"  # a live claimer keeps its claim
    assert faulty.accepted_to("a@families.example") == []


def test_a_live_claim_on_another_host_waits_for_the_stale_limit(faulty):
    from tasks.mail.claiming import STALE_CLAIM, claim_due

    queue("a@families.example")
    assert len(claim_due(NOW, 10, "elsewhere:1:abcdabcd")) == 1
    assert deliver()["sent"] == 0
    assert deliver(NOW + STALE_CLAIM + timedelta(minutes=1))["sent"] == 1


def test_a_refused_port_leaves_nothing_in_sending(drs_env, monkeypatch):
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    queue("a@families.example", "b@families.example")
    deliver()
    with unit_of_work() as db:
        assert set(db.scalars(select(OutboxEmail.status))) == {"pending"}


@pytest.mark.parametrize(
    "name,value",
    [
        ("DRS_SMTP_RATE_PER_MINUTE", "-5"),
        ("DRS_SMTP_PORT", "70000"),
        ("DRS_MAIL_FROM", "not-an-address"),
        ("DRS_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_a_bad_setting_stops_drs_before_any_email_is_claimed(faulty, drs, monkeypatch, name, value):
    queue("a@families.example")
    monkeypatch.setenv(name, value)
    r = drs("mail", "deliver", "--json", "--now", NOW.isoformat())
    assert r.exit_code == 2 and name in r.stderr and len(r.stderr.strip().splitlines()) == 1
    monkeypatch.delenv(name)
    row = state("test:0")
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
    assert faulty.attempts == {}


def test_a_run_stopped_mid_batch_leaves_nothing_in_sending(drs_env):
    """Whatever stops a batch (here an interrupt on the second email), its unsent rows go back
    to pending, uncharged, in the same process."""
    from tasks.mail.delivery import deliver_pending
    from tasks.mail.mailer import SendOutcome

    class Interrupted:
        calls = 0

        def attempt(self, email):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return SendOutcome("sent")

        def send(self, email):  # pragma: no cover - attempt() is used
            raise AssertionError

        def close(self):
            pass

    queue("a@families.example", "b@families.example", "c@families.example")
    with pytest.raises(KeyboardInterrupt):
        deliver_pending(NOW, mailer=Interrupted())
    with unit_of_work() as db:
        got = {r.key: (r.status, r.attempts, r.claimed_by) for r in db.scalars(select(OutboxEmail))}
    assert got == {"test:0": ("sent", 1, None), "test:1": ("pending", 0, None), "test:2": ("pending", 0, None)}


def test_record_rejection_also_fails_a_row_already_sent(drs_env):
    """The bounce reader (issue 15) calls it for a row that went out and bounced later."""
    from tasks.mail.failures import record_rejection

    queue("a@families.example")
    assert deliver()["sent"] == 1
    with unit_of_work() as db:
        row = db.scalar(select(OutboxEmail).where(OutboxEmail.key == "test:0"))
        for _ in range(2):  # reported twice: told once
            record_rejection(
                db,
                row,
                smtp_code=550,
                enhanced_status="5.1.1",
                reason="the recipient's server reported the address does not exist",
                now=NOW,
            )
        db.commit()
    row = state("test:0")
    assert (row.status, row.outcome, row.smtp_code, row.enhanced_status) == ("bounced", "permanent", 550, "5.1.1")
    assert [k for k in _keys() if k.startswith("delivery-failed:")] == [f"delivery-failed:{row.id}"]


def test_a_configured_rate_cap_spaces_the_messages(faulty, monkeypatch):
    """`DRS_SMTP_RATE_PER_MINUTE` is honoured by the batched delivery: 600 a minute = 0.1 s apart."""
    import time

    from tasks.mail import delivery

    monkeypatch.setenv("DRS_SMTP_RATE_PER_MINUTE", "600")
    sent_at: list[float] = []
    real = delivery.attempt_with

    def timed(mailer, email):
        sent_at.append(time.monotonic())
        return real(mailer, email)

    monkeypatch.setattr(delivery, "attempt_with", timed)
    queue("a@families.example", "b@families.example", "c@families.example", "d@families.example")
    assert deliver()["sent"] == 4
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.095, gaps


def test_a_batch_gives_its_connection_back_with_the_usual_flush(faulty):
    """The batch's commits skip the disk flush on its own connection only; afterwards every pooled
    connection flushes as before (SQLite `synchronous`; PostgreSQL keeps `synchronous_commit` on throughout)."""
    from sqlalchemy import text

    from tasks.db import get_engine

    engine = get_engine()
    sqlite = engine.dialect.name == "sqlite"
    probe = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    with engine.connect() as conn:
        usual = conn.execute(text(probe)).scalar()
    queue("a@families.example", "b@families.example")
    assert deliver()["sent"] == 2
    held = [engine.connect() for _ in range(3)]  # the pool's connections, the batch's among them
    try:
        assert {conn.execute(text(probe)).scalar() for conn in held} == {usual}
    finally:
        for conn in held:
            conn.close()

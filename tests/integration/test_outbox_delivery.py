"""Delivering the outbox: a real aiosmtpd server on loopback receives what the SMTP mailer sends;
a refused connection leaves the rows pending (uncharged), and the next delivery sends them."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import OutboxEmail
from tasks.db import unit_of_work
from tasks.settings import get_settings
from tests.intake_samples import CHILD_NAME, referral, write_json

TODAY = "2026-11-23"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def inbox(drs_env, las):
    path = drs_env.home / "inbox" / "referrals"
    path.mkdir(parents=True)
    return path


def rows() -> dict[str, tuple]:
    with unit_of_work() as db:
        return {
            r.key: (r.status, r.attempts, r.last_error, r.next_attempt_at, r.kind, r.to_addr)
            for r in db.scalars(select(OutboxEmail))
        }


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def queue_three(drs, inbox) -> None:
    write_json(inbox / "a.json", referral("TT-1", wants_mediation="yes"))  # ack, team, LA
    assert drs("intake", "--today", TODAY, "--json").json()["imported"] == 1


def test_smtp_server_receives_each_email_with_one_recipient(drs, inbox, smtp_server):
    queue_three(drs, inbox)
    r = drs("mail", "deliver", "--json", "--now", NOW.isoformat())
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 0}
    assert sorted(rcpts[0] for _, rcpts in smtp_server.envelopes) == [
        "family.tt-1@families.example",
        "sen@salford.example.org",
        "team@service.example.org",
    ]
    assert all(len(rcpts) == 1 for _, rcpts in smtp_server.envelopes)
    assert all(sender == "mediation@service.example.org" for sender, _ in smtp_server.envelopes)
    (ack,) = smtp_server.to("family.tt-1@families.example")
    assert ack["Subject"] == "We have received your referral (DRS-2026-00001)"
    assert ack.get_body(("plain",)).get_content().count("DRS-2026-00001") >= 1
    assert "<h1" in ack.get_body(("html",)).get_content()
    (la,) = smtp_server.to("sen@salford.example.org")
    assert CHILD_NAME not in la["Subject"] and CHILD_NAME in la.get_body(("plain",)).get_content()
    assert {s for s, *_ in rows().values()} == {"sent"}
    # delivering again sends nothing more
    assert drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json()["sent"] == 0
    assert len(smtp_server.messages) == 3


def test_a_refused_connection_charges_no_attempt_and_the_next_sweep_sends(drs, inbox, smtp_server, monkeypatch):
    """Refused before any message was tried: the server's fault, so no email is charged an attempt;
    they stay due and the next sweep (a minute later) sends them."""
    queue_three(drs, inbox)
    monkeypatch.setenv("DRS_SMTP_PORT", str(closed_port()))
    r = drs("mail", "deliver", "--json", "--now", NOW.isoformat())
    assert r.exit_code == 0
    assert r.json() == {"sent": 0, "retrying": 3, "failed": 0, "remaining": 3}
    for status, attempts, error, next_at, *_ in rows().values():
        assert (status, attempts) == ("pending", 0)
        assert "could not be reached or used (ConnectionRefusedError)" in error
        assert next_at <= NOW  # still due: not pushed back
    from tasks.mail.delivery import deliver_pending

    monkeypatch.setenv("DRS_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    later = deliver_pending(NOW + timedelta(minutes=1)).as_dict()
    assert later == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 0}
    assert len(smtp_server.messages) == 3
    assert all(attempts == 1 and error is None for _, attempts, error, *_ in rows().values())


def test_drs_mail_deliver_retries_at_once_when_the_server_is_back(drs, inbox, smtp_server, monkeypatch):
    """A person running `drs mail deliver` after fixing the relay means "now": emails waiting are
    tried again at once, even at the same --now; a relay that stays down never uses up attempts."""
    queue_three(drs, inbox)
    monkeypatch.setenv("DRS_SMTP_PORT", str(closed_port()))
    assert drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json()["retrying"] == 3
    again = drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json()
    assert again == {"sent": 0, "retrying": 3, "failed": 0, "remaining": 3}
    assert all((status, attempts) == ("pending", 0) for status, attempts, *_ in rows().values())
    monkeypatch.setenv("DRS_SMTP_PORT", str(smtp_server.port))
    r = drs("mail", "deliver", "--json", "--now", NOW.isoformat())
    assert r.json() == {"sent": 3, "retrying": 0, "failed": 0, "remaining": 0}, r.stderr
    assert len(smtp_server.messages) == 3


def test_after_the_last_attempt_the_row_fails_and_the_team_is_told(drs, inbox, monkeypatch):
    """4xx every time: retried with back-off; after MAX_ATTEMPTS the row fails and the team is
    told once, with the command that puts it back."""
    from tasks.mail.delivery import MAX_ATTEMPTS, backoff, deliver_pending
    from tests.smtp_faults import FaultyHandler, FaultyServer

    queue_three(drs, inbox)
    handler = FaultyHandler(
        script={
            ("family.tt-1@families.example", "rcpt"): ["451"] * MAX_ATTEMPTS,
            ("sen@salford.example.org", "data"): ["452"] * MAX_ATTEMPTS,
        }
    )
    server = FaultyServer(handler).start()
    try:
        monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DRS_SMTP_PORT", str(server.port))
        monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
        get_settings.cache_clear()
        now = NOW
        for attempt in range(MAX_ATTEMPTS):
            deliver_pending(now)
            now += backoff(attempt + 1) + timedelta(seconds=1)
        state = rows()
        assert {state[k][0] for k in ("ack:DRS-2026-00001", "la-request:DRS-2026-00001")} == {"failed"}
        assert state["ack:DRS-2026-00001"][1] == MAX_ATTEMPTS
        notices = [k for k in state if k.startswith("delivery-failed:")]
        assert len(notices) == 2  # the ack and the LA request; the team's own mail went through
        deliver_pending(now)
        deliver_pending(now + timedelta(hours=5))
        told = handler.accepted_to("team@service.example.org")
        assert len(told) == 3  # the new-case email and the two notices, once each
        bodies = [m.get_body(("plain",)).get_content() for m in told if "could not be delivered" in m["Subject"]]
        assert len(bodies) == 2
        assert all("DRS-2026-00001" in b and "drs mail retry" in b for b in bodies)
        assert any("451 4.3.0" in b for b in bodies) and any("452 4.2.2" in b for b in bodies)
        assert not any("families.example" in b for b in bodies)  # the server echoed it: not passed on
    finally:
        server.stop()


def test_without_smtp_host_each_email_is_an_eml_file(drs, inbox, drs_env):
    queue_three(drs, inbox)
    assert drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json()["sent"] == 3
    sent = sorted(p.name for p in (drs_env.home / "outbox" / "sent").iterdir())
    with unit_of_work() as db:
        by_id = {r.id: (r.kind, r.message_id) for r in db.scalars(select(OutboxEmail))}
    assert sent == sorted(f"outbox-{i:07d}-{kind}.eml" for i, (kind, _) in by_id.items())
    from email import message_from_bytes, policy

    msg = message_from_bytes((drs_env.home / "outbox" / "sent" / sent[0]).read_bytes(), policy=policy.default)
    assert msg["To"] == "family.tt-1@families.example" and msg.get_body(("html",)) is not None
    assert msg["Message-ID"] == by_id[1][1]


def test_two_workers_never_claim_the_same_email(drs, inbox):
    from tasks.mail.claiming import claim_due

    queue_three(drs, inbox)
    first = claim_due(NOW, 2, "worker-a")
    second = claim_due(NOW, 10, "worker-b")
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert claim_due(NOW, 10, "worker-c") == []
    # a claim held past the stale limit (a crashed worker) is taken again
    assert sorted(claim_due(NOW + timedelta(minutes=16), 10, "worker-d")) == sorted(first + second)


def test_deliver_ids_sends_only_the_ids_given(drs, inbox, smtp_server):
    from tasks.mail.delivery import deliver_ids

    queue_three(drs, inbox)
    with unit_of_work() as db:
        ack_id = db.scalar(select(OutboxEmail.id).where(OutboxEmail.key == "ack:DRS-2026-00001"))
    assert deliver_ids([ack_id], NOW).sent == 1
    assert deliver_ids([ack_id], NOW).sent == 0  # already sent: never twice
    assert [m["To"] for m in smtp_server.messages] == ["family.tt-1@families.example"]


def test_a_login_user_without_password_fails_fast_instead_of_prompting(drs, inbox, smtp_server, monkeypatch):
    queue_three(drs, inbox)
    monkeypatch.setenv("DRS_SMTP_USER", "relay-user")
    summary = drs("mail", "deliver", "--json", "--now", NOW.isoformat()).json()
    assert summary["retrying"] == 3
    assert all("DRS_SMTP_PASSWORD" in error for _, _, error, *_ in rows().values())
    assert all(attempts == 0 for _, attempts, *_ in rows().values())  # a setting, not the emails' fault


def test_a_referral_read_at_night_is_acknowledged_from_8am(drs, inbox, smtp_server):
    write_json(inbox / "a.json", referral("TT-1"))
    assert drs("intake", "--now", "2026-11-23T22:30:00+00:00", "--json").json()["imported"] == 1
    state = rows()
    assert state["ack:DRS-2026-00001"][3] == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert state["team-new-case:DRS-2026-00001"][3] == datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    drs("mail", "deliver", "--now", "2026-11-23T22:31:00+00:00")
    assert [m["To"] for m in smtp_server.messages] == ["team@service.example.org"]
    drs("mail", "deliver", "--now", "2026-11-24T08:00:00+00:00")
    assert len(smtp_server.to("family.tt-1@families.example")) == 1

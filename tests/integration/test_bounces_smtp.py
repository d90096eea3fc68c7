"""The synchronous path (issue 15): a real aiosmtpd server refuses one recipient at RCPT with 550;
the email is `bounced`, a contact problem on the case, and a certificate is escalated at once."""

from __future__ import annotations

import socket
from datetime import date

import pytest
from sqlalchemy import select

from tests.monitor_cases import make_case

SALFORD = "E08000006"
NOW = "2026-11-27T11:00:00+00:00"
REFUSED = "gone.away@families.example"
FULL = "full.box@families.example"


@pytest.fixture
def refusing_smtp(drs_env, monkeypatch):
    """aiosmtpd on loopback: 550 5.1.1 for REFUSED, 452 4.2.2 for FULL, 250 for everyone else."""
    from aiosmtpd.controller import Controller

    from tasks.settings import get_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    received: list[list[str]] = []

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == REFUSED:
                return "550 5.1.1 <gone.away@families.example>: Recipient address rejected: User unknown"
            if address == FULL:
                return "452 4.2.2 Mailbox full"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            received.append(list(envelope.rcpt_tos))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DRS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DRS_SMTP_PORT", str(port))
    monkeypatch.setenv("DRS_SMTP_SECURITY", "none")
    get_settings.cache_clear()
    yield received
    controller.stop()
    get_settings.cache_clear()


def test_a_recipient_refused_with_550_is_a_hard_bounce_escalated_at_once(las, drs, refusing_smtp):
    from models.db import ContactProblem, OutboxEmail
    from tasks.db import unit_of_work

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        email=REFUSED,
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    assert drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27").exit_code == 0
    r = drs("mail", "deliver", "--now", NOW, "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["failed"] == 1
    with unit_of_work() as db:
        cert = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "certificate"))
        assert (cert.status, cert.attempts) == ("bounced", 1)
        assert "the mailbox does not exist" in cert.last_error and REFUSED not in cert.last_error
        (problem,) = db.scalars(select(ContactProblem)).all()
        assert (problem.source, problem.status_code, problem.hard, problem.recipient_role) == (
            "smtp",
            "5.1.1",
            True,
            "family",
        )
        escalation = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "bounce-escalation"))
        assert escalation is not None and ref in escalation.subject and "Monday 4 January 2027" in escalation.body_text
    # the escalation itself goes out on the next delivery; the bounced email is never retried
    assert drs("mail", "deliver", "--now", "2026-11-27T11:01:00+00:00").exit_code == 0
    assert ["team@service.example.org"] in refusing_smtp
    with unit_of_work() as db:
        assert db.scalar(select(OutboxEmail.status).where(OutboxEmail.kind == "certificate")) == "bounced"
    (p,) = drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"]
    assert (p["recipient_role"], p["reason"], p["statutory"]) == ("family", "the mailbox does not exist", True)


def test_a_recipient_refused_with_452_is_retried_and_a_problem_only_after_three_working_days(las, drs, refusing_smtp):
    from models.db import ContactProblem, OutboxEmail
    from tasks.db import unit_of_work

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        email=FULL,
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    assert drs("certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27").exit_code == 0
    assert drs("mail", "deliver", "--now", NOW, "--json").json()["retrying"] == 1
    with unit_of_work() as db:
        cert = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "certificate"))
        assert cert.status == "pending"
        (problem,) = db.scalars(select(ContactProblem)).all()
        assert (problem.hard, problem.status_code) == (False, "4.2.2")
    assert drs("case", "show", ref, "--json", "--today", "2026-11-27").json()["contact_problems"] == []
    # still refused on Wed 2 Dec (3 working days later): now a contact problem, and escalated
    r = drs("mail", "deliver", "--now", "2026-12-02T10:00:00+00:00", "--json")
    assert r.json()["failed"] == 1
    (p,) = drs("case", "show", ref, "--json", "--today", "2026-12-02").json()["contact_problems"]
    assert p["reason"] == "the mailbox is full"
    with unit_of_work() as db:
        assert db.scalar(select(OutboxEmail.status).where(OutboxEmail.kind == "certificate")) == "bounced"
        assert db.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "bounce-escalation")) is not None

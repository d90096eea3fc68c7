"""Checked from outside after issues 15 (bounces) and 17 (data protection) were merged (qa-15-17).

Each test is a case the builders' tests did not try, found failing through the CLI, and fixed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests import bounce_samples as samples
from tests.integration.test_bounces import NOW, certificate_case, drop, maildir, outbox, sent_message  # noqa: F401
from tests.integration.test_bounces_imap import dovecot, imap_box  # noqa: F401

__all__ = ["dovecot", "imap_box", "maildir"]


def test_a_bounce_of_the_teams_own_email_is_no_family_to_phone(las, drs, drs_env, maildir):
    """The team's escalation bounces: the family's case does not gain a 'team' problem, the
    'Phone these families' list does not name the case for it; the today screen says the team's
    address is broken instead."""
    from tasks.operations.today import build_today, render_today

    ref = certificate_case(drs)
    cert_id, cert = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1796112000.M1P1.relay", samples.postfix_report(cert))
    assert drs("mail", "bounces", "--now", NOW).exit_code == 0
    esc_id, escalation = sent_message(drs, drs_env, "bounce-escalation")
    drop(maildir, "1796112001.M2P1.relay", samples.postfix_report(escalation))
    r = drs("mail", "bounces", "--now", NOW, "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["hard"] == 1
    assert [o.status for o in outbox("bounce-escalation:")] == ["bounced"]

    problems = drs("case", "show", ref, "--json").json()["contact_problems"]
    assert [p["recipient_role"] for p in problems] == ["family"]
    screen = render_today(build_today(date(2026, 11, 27), datetime(2026, 11, 27, 12, tzinfo=UTC)))
    phone = screen.split("## Phone these families")[1].split("##")[0]
    assert phone.count(ref) == 1 and "to the team" not in phone
    assert "The team's address (DRS_TEAM_EMAIL) bounced: the mailbox does not exist" in screen


def test_the_case_export_holds_its_bounces_and_how_the_family_was_reached(las, drs, drs_env, maildir, tmp_path):
    """Subject access reaches issue 15's contact problems, the "reached" note included."""
    import json

    ref = certificate_case(drs)
    cert_id, cert = sent_message(drs, drs_env, "certificate")
    drop(maildir, "1796112000.M1P1.relay", samples.postfix_report(cert))
    assert drs("mail", "bounces", "--now", NOW).exit_code == 0
    r = drs(
        "case",
        "contact",
        ref,
        "--reached",
        "--by",
        "phone",
        "--on",
        "2026-11-27",
        "--note",
        "rang mum at work",
        "--now",
        NOW,
    )
    assert r.exit_code == 0, r.stderr
    assert drs("case", "export", ref, "--out", str(tmp_path / "out"), "--now", NOW).exit_code == 0
    doc = json.loads((tmp_path / "out" / ref / "case.json").read_text())
    assert doc["contact_problems"] == [
        {
            "email_id": cert_id,
            "recipient_role": "family",
            "status": "5.1.1",
            "reason": "the mailbox does not exist",
            "statutory": True,
            "since": "2026-11-27T11:00:00+00:00",
            "open": False,
            "resolved_at": "2026-11-27T11:00:00+00:00",
            "resolution": "reached-phone",
            "note": "rang mum at work",
        }
    ]
    assert "contact problems" in (tmp_path / "out" / "README.txt").read_text()


def _eml_to(drs_env, to: str):
    from email import message_from_bytes, policy

    sent = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in (drs_env.outbox_dir / "sent").glob("*.eml")
    ]
    (found,) = [m for m in sent if str(m["To"]) == to]
    return found


def test_erasing_a_case_removes_the_raw_bounce_notices_about_it(las, drs, drs_env, maildir):
    """The raw notices kept in the bounce mailbox's `processed` folder quote the family's message
    (address, name): erasure reaches them at once, another family's notices stay."""
    from tests.integration.test_bounces import SALFORD
    from tests.monitor_cases import FAMILY_EMAIL, make_case

    ref = certificate_case(drs)
    other_addr = "other.family@families.example"
    other = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        email=other_addr,
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )
    assert drs("certificate", "issue", other, "--on", "2026-11-27", "--today", "2026-11-27").exit_code == 0
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    mine, theirs = _eml_to(drs_env, FAMILY_EMAIL), _eml_to(drs_env, other_addr)
    drop(maildir, "1796112000.M1P1.relay", samples.postfix_report(mine))
    drop(maildir, "1796112001.M2P1.relay", samples.out_of_office(mine))  # not a bounce, but quotes it
    drop(maildir, "1796112002.M3P1.relay", samples.exim_text(theirs))
    assert drs("mail", "bounces", "--now", NOW).exit_code == 0
    processed = maildir / ".processed" / "cur"
    assert len(list(processed.iterdir())) == 3

    r = drs("case", "erase", ref, "--reason", "asked by the family", "--now", NOW)
    assert r.exit_code == 0, r.stderr
    left = [p.read_bytes() for p in processed.iterdir()]
    assert len(left) == 1 and other_addr.encode() in left[0]
    for root in (maildir, drs_env.home):
        for path in root.rglob("*"):
            if path.is_file() and path.suffix not in (".sqlite3", ".sqlite3-wal", ".sqlite3-shm"):
                data = path.read_bytes()
                assert FAMILY_EMAIL.encode() not in data, path.name  # (both test families share a name)


def test_erasing_a_case_removes_its_notices_from_the_imap_processed_folder(las, drs, drs_env, imap_box):
    """The same over IMAP (a real Dovecot): the case's notices leave `processed`, another's stay."""
    from tests.integration.test_bounces import SALFORD
    from tests.integration.test_bounces_imap import count
    from tests.monitor_cases import FAMILY_EMAIL, make_case

    ref = certificate_case(drs)
    other_addr = "other.family@families.example"
    other = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        email=other_addr,
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )
    assert drs("certificate", "issue", other, "--on", "2026-11-27", "--today", "2026-11-27").exit_code == 0
    assert drs("mail", "deliver", "--now", NOW).exit_code == 0
    mine, theirs = _eml_to(drs_env, FAMILY_EMAIL), _eml_to(drs_env, other_addr)
    for raw in (samples.gmail_report(mine), samples.out_of_office(mine), samples.exim_text(theirs)):
        imap_box.append("INBOX", None, None, raw)
    assert drs("mail", "bounces", "--now", NOW).exit_code == 0
    assert count(imap_box, "processed") == 3

    r = drs("case", "erase", ref, "--reason", "asked by the family", "--now", NOW, "--json")
    assert r.exit_code == 0, r.stderr
    assert count(imap_box, "processed") == 1
    typ, data = imap_box.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK"
    held = b"".join(part[1] for part in data if isinstance(part, tuple))
    assert other_addr.encode() in held and FAMILY_EMAIL.encode() not in held


def test_the_audit_log_cannot_be_emptied_by_truncate_or_a_bare_delete(las, drs, drs_env):
    """0014's guard refused UPDATE/DELETE of rows, but `TRUNCATE audit_log` emptied the trail on
    PostgreSQL (no row trigger fires). SQLite has no TRUNCATE: a DELETE without WHERE is tried."""
    import pytest
    from sqlalchemy import func, select, text

    from models.db import AuditEntry
    from tasks.db import get_engine, unit_of_work

    certificate_case(drs)
    with unit_of_work() as db:
        before = db.scalar(select(func.count()).select_from(AuditEntry))
    assert before > 0
    engine = get_engine()
    statement = "TRUNCATE audit_log" if engine.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    with unit_of_work() as db:
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == before

"""Checked from outside after issues 15 (bounces) and 17 (data protection) were merged (qa-15-17).

Each test is a case the builders' tests did not try, found failing through the CLI, and fixed.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from tests import bounce_samples as samples
from tests.integration.test_bounces import NOW, certificate_case, drop, maildir, outbox, sent_message  # noqa: F401

__all__ = ["maildir"]


def test_a_bounce_of_the_teams_own_email_is_no_family_to_phone(las, drs, drs_env, maildir):
    """The team's escalation bounces: the family's case does not gain a 'team' problem, the
    'Phone these families' list does not name the case for it; the today screen says the team's
    address is broken instead."""
    from tasks.today import build_today, render_today

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
    screen = render_today(build_today(date(2026, 11, 27), datetime(2026, 11, 27, 12, tzinfo=timezone.utc)))
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
    r = drs("case", "contact", ref, "--reached", "--by", "phone", "--on", "2026-11-27", "--note", "rang mum at work",
            "--now", NOW)
    assert r.exit_code == 0, r.stderr
    assert drs("case", "export", ref, "--out", str(tmp_path / "out"), "--now", NOW).exit_code == 0
    doc = json.loads((tmp_path / "out" / ref / "case.json").read_text())
    assert doc["contact_problems"] == [{
        "email_id": cert_id, "recipient_role": "family", "status": "5.1.1", "reason": "the mailbox does not exist",
        "statutory": True, "since": "2026-11-27T11:00:00+00:00", "open": False, "resolved_at": "2026-11-27T11:00:00+00:00",
        "resolution": "reached-phone", "note": "rang mum at work"}]
    assert "contact problems" in (tmp_path / "out" / "README.txt").read_text()

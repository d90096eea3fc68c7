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

"""Plain clock names where people read them: team and LA alerts, the digest (email, artifacts),
the team's new-referral notice and the `today` screen — with the code in brackets."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.domain.alerts import Alert
from models.domain.digest import DigestRow
from tasks.deadlines.emails import LaContext, digest, la_alert, team_alert

TITLE = "LA to issue the final plan (agreed at mediation) [agreement_issue-plan_final]"
ALERT = Alert(
    case_ref="DRS-2026-00042",
    clock="agreement_issue-plan_final",
    kind="due-soon",
    due=date(2026, 12, 8),
    target=date(2026, 12, 8),
    owner="la",
    audiences=("team", "la"),
    la_code="E08000006",
    level="SECONDARY",
    working_days_left=2,
)
ROW = DigestRow(
    "E08000006", "DRS-2026-00042", "acknowledge_by", date(2026, 12, 1), date(2026, 12, 1), "missed", "adviser", -1
)


def test_team_and_la_alerts_name_the_clock_in_words_with_its_code():
    subject, text, html = team_alert(ALERT)
    la_subject, la_text, _ = la_alert(ALERT, LaContext(la_name="Salford"))

    assert subject == f"[DRS-2026-00042] {TITLE} due soon (Tue 8 Dec 2026)"
    assert f"Clock: {TITLE}" in text and "LA to issue the final plan (agreed at mediation)" in html
    assert f"What: {TITLE}" in la_text
    assert "agreement follow-up: issue-plan" not in text + la_text


def test_the_digest_email_and_artifacts_use_the_words(drs_env):
    from tasks.deadlines.digest import digest_markdown, digest_table

    subject, text, _ = digest(date(2026, 12, 2), [("E08000006", "Salford", [ROW])])
    [table_row] = digest_table([ROW])
    markdown = digest_markdown(date(2026, 12, 2), [ROW])

    assert "DRS-2026-00042 — Acknowledge the referral [acknowledge_by]: MISSED" in text
    assert table_row["clock"] == "acknowledge_by"  # the code stays for the team's tools (and the flow)
    assert table_row["what"] == "Acknowledge the referral"
    assert "- DRS-2026-00042 Acknowledge the referral [acknowledge_by] MISSED 01 Dec" in markdown


def test_the_team_notice_of_a_new_referral_lists_clocks_in_words():
    from tasks.intake.emails import CaseFacts, team_new_case

    facts = CaseFacts(
        ref="DRS-2026-00042",
        service="mediation",
        la_name="Salford",
        decision_type="refuse_plan",
        letter_sent_on=date(2026, 11, 12),
        received_on=date(2026, 11, 20),
        wants_mediation="no",
        requester_role="parent",
        consent_to_contact_la=False,
        health_issues=False,
        social_care_issues=False,
        clocks={"certificate_due": (date(2026, 11, 25), "open"), "acknowledge_by": (date(2026, 11, 23), "open")},
    )

    _, text, _ = team_new_case(facts)

    assert "Issue the mediation certificate [certificate_due]" in text
    assert "Acknowledge the referral [acknowledge_by]" in text
    assert "certificate due:" not in text.lower()


def test_the_today_screen_names_clocks_in_words(drs, las):
    from tasks.operations.today import build_today, render_today
    from tests.integration.test_foundation_cli import make_case

    ref = make_case("E08000003", letter=date(2026, 11, 12), received=date(2026, 11, 20))
    assert drs("case", "event", ref, "mediation-declined", "--on", "2026-11-23", "--today", "2026-11-23").exit_code == 0

    text = render_today(build_today(date(2026, 11, 26), datetime(2026, 11, 26, 9, tzinfo=UTC)))

    assert f"- {ref} — Issue the mediation certificate [certificate_due] (due 26 Nov, owner: adviser)" in text

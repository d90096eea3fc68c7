"""The intake emails (tasks/intake/emails.py): what each says, and subjects without names."""

from __future__ import annotations

from datetime import date

from tasks.intake.emails import CaseFacts, acknowledgement, la_mediation_request, team_new_case


def facts(**changes) -> CaseFacts:
    base = dict(
        ref="DRS-2026-00042",
        service="mediation",
        la_name="Salford",
        decision_type="refuse_assessment",
        letter_sent_on=date(2026, 11, 12),
        received_on=date(2026, 11, 20),
        wants_mediation="no",
        requester_role="parent",
        consent_to_contact_la=True,
        health_issues=False,
        social_care_issues=False,
        clocks={
            "certificate_due": (date(2026, 11, 25), "open"),
            "appeal_deadline": (date(2027, 1, 12), "open"),
            "contact_adviser_by": (date(2027, 1, 12), "met"),
        },
    )
    base.update(changes)
    return CaseFacts(**base)


def test_acknowledgement_explains_mediation_the_certificate_and_key_dates():
    subject, text, html = acknowledgement(facts())
    assert subject == "We have received your referral (DRS-2026-00042)"
    assert "free" in text and "mediation certificate" in text and "independent mediator" in text
    assert "not to carry out an EHC needs assessment" in text
    assert "We will send your mediation certificate by: Wednesday 25 November 2026" in text
    assert "Tuesday 12 January 2027" in text and "What happens next" in text
    assert "<table>" in html and "Wednesday 25 November 2026" in html


def test_acknowledgement_of_an_undecided_family_promises_a_call_and_no_certificate_date():
    _, text, _ = acknowledgement(
        facts(wants_mediation="undecided", clocks={"appeal_deadline": (date(2027, 1, 12), "open")})
    )
    assert "within 2 working days" in text and "certificate by" not in text


def test_acknowledgement_for_section_i_only_says_no_certificate_is_needed():
    _, text, _ = acknowledgement(
        facts(flags=("no-certificate-needed",), clocks={"certificate_due": (date(2026, 11, 25), "not_applicable")})
    )
    assert "without a certificate" in text and "certificate by" not in text


def test_team_notice_carries_codes_and_flags_but_no_names():
    subject, text, _ = team_new_case(facts(flags=("contact-deadline-passed",)))
    assert subject == "New referral: DRS-2026-00042 (Salford)"
    assert "two months" in text and "drs case show DRS-2026-00042" in text
    subject, _, _ = team_new_case(facts(), linked_form="TT-9")
    assert subject == "Second referral linked to DRS-2026-00042"


def test_la_request_names_the_family_in_the_body_only():
    subject, text, _ = la_mediation_request(
        facts(wants_mediation="yes", health_issues=True),
        requester_name="Ottoline Q",
        child_name="Zebedee Q",
        child_date_of_birth=date(2015, 3, 2),
    )
    assert subject == "Request for mediation: DRS-2026-00042"
    assert "Zebedee Q" in text and "Monday 2 March 2015" in text and "30 days" in text
    assert "integrated care board" in text

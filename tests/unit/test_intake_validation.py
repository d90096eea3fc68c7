"""The referral validator (models/domain/referrals.py): pure, so table-tested in milliseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.domain.referrals import flatten, parse_date, parse_sections, validate_referral
from tests.intake_samples import referral

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 23)
KNOWN = {"salford", "e08000006", "manchester"}


def check(**changes):
    return validate_referral(
        flatten(referral(**changes)), today=TODAY, tz=LONDON, la_known=lambda text: text.strip().lower() in KNOWN
    )


def texts(problems) -> str:
    return " | ".join(p.text for p in problems)


def test_a_complete_referral_is_accepted_with_typed_fields():
    form, problems = check()
    assert problems == []
    assert form.form_id == "TT-1001"
    assert form.received_on == date(2026, 11, 20)
    assert form.child_date_of_birth == date(2015, 3, 2)
    assert form.decision_letter_sent_on == date(2026, 11, 12)
    assert form.consent_to_contact_la is True and form.health_issues is False
    assert form.flags == ()


def test_received_on_is_the_local_date_of_submission():
    # 23:30 UTC on 20 June is 00:30 on 21 June in London (BST)
    form, _ = check(
        submitted_at="2026-06-20T23:30:00Z", decision_letter_sent_on="2026-06-01", child_date_of_birth="2015-03-02"
    )
    assert form.received_on == date(2026, 6, 21)


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"form_id": ""}, "form_id is missing"),
        ({"submitted_at": "yesterday"}, "is not a date and time"),
        ({"submitted_at": "2026-11-24T09:00:00Z"}, "submitted_at is in the future"),
        ({"service": "therapy"}, "service 'therapy' is not mediation or drs"),
        ({"requester_role": "neighbour"}, "requester role 'neighbour' is not one of"),
        ({"requester_name": " "}, "requester name is missing"),
        ({"requester_email": "not-an-email"}, "requester email does not look like an email address"),
        ({"requester_email": "a@b"}, "requester email does not look like an email address"),
        ({"child_date_of_birth": "2015-02-30"}, "child's date of birth is not a date"),
        ({"child_date_of_birth": "2027-01-01"}, "child's date of birth is in the future"),
        ({"child_date_of_birth": "2000-11-19"}, "is 26 on the date received"),
        ({"local_authority": "Atlantis"}, "local authority 'Atlantis' is not in the register"),
        ({"local_authority": ""}, "local authority is missing"),
        ({"decision_type": "refuse_everything"}, "decision type 'refuse_everything' is not one of"),
        ({"decision_type": ""}, "decision type is missing"),
        ({"decision_letter_sent_on": "12th November"}, "decision letter date is not a date"),
        ({"decision_letter_sent_on": "2026-11-21"}, "decision letter date is after the referral was submitted"),
        ({"decision_type": "plan_contents", "sections": []}, "sections are missing"),
        ({"decision_type": "plan_contents", "sections": ["B", "Z"]}, "sections Z unknown"),
        ({"health_issues": "maybe"}, "health_issues 'maybe' is not yes or no"),
        ({"wants_mediation": "perhaps"}, "wants_mediation 'perhaps' is not yes, no or undecided"),
        ({"requester_role": "professional", "consent_to_contact_la": False}, "needs the family's consent recorded"),
        ({"requester_postcode": "M1 1AA M1 1AA M1"}, "requester postcode is too long"),
    ],
)
def test_each_hard_problem_is_named_in_plain_words(changes, expected):
    form, problems = check(**changes)
    assert form is None
    assert expected in texts(problems)


def test_all_problems_of_a_record_are_reported_together():
    _, problems = check(requester_email="x", local_authority="Atlantis", decision_type="nope")
    assert {p.field for p in problems} == {"requester_email", "local_authority", "decision_type"}


def test_reasons_for_dashboards_never_quote_the_form():
    _, problems = check(
        requester_email="zeb@nowhere", local_authority="Quillfeather Towers", requester_role="Quillfeather"
    )
    for p in problems:
        assert "Quillfeather" not in p.summary and "zeb@" not in p.summary


def test_young_person_aged_25_is_in_scope_and_26_is_not():
    assert check(child_date_of_birth="2001-11-20")[0] is not None  # 25th birthday on the day received
    assert check(child_date_of_birth="2000-11-20")[0] is None  # 26 that day


def test_drs_needs_no_decision():
    form, problems = check(service="drs", decision_type="", decision_letter_sent_on="")
    assert problems == [] and form.service == "drs" and form.decision_type is None


def test_a_professional_with_consent_is_accepted():
    form, _ = check(requester_role="professional", consent_to_contact_la="yes")
    assert form.requester_role == "professional"


def test_old_letter_is_accepted_but_flagged():
    form, _ = check(decision_letter_sent_on="2026-09-19")  # + 2 months = 19 Nov, before 20 Nov
    assert form is not None and "contact-deadline-passed" in form.flags
    form, _ = check(decision_letter_sent_on="2026-09-20")  # exactly 2 months: in time
    assert "contact-deadline-passed" not in form.flags


def test_section_i_only_is_flagged_no_certificate_needed():
    form, _ = check(decision_type="plan_contents", sections=["I"])
    assert form.flags == ("no-certificate-needed",)
    form, _ = check(decision_type="plan_contents", sections="B;I")
    assert form.flags == () and form.sections == ("B", "I")


def test_request_without_consent_is_flagged_for_the_team():
    form, _ = check(wants_mediation="yes", consent_to_contact_la=False)
    assert form.flags == ("mediation-requested-without-la-consent",)


def test_sections_are_kept_only_for_plan_contents():
    form, _ = check(decision_type="refuse_amend", sections=["B"])
    assert form.sections == ()


def test_flat_csv_values_and_spreadsheet_types_are_understood():
    fields = flatten(referral())
    fields.update(
        {
            "child_date_of_birth": datetime(2015, 3, 2),
            "decision_letter_sent_on": "12/11/2026",
            "health_issues": "Yes",
            "consent_to_contact_la": "Y",
            "sections": "",
            "submitted_at": datetime(2026, 11, 20, 14, 3),
            "form_id": 48213.0,
            "wants_mediation": "",
            "requester_role": "Young Person",
        }
    )
    form, problems = validate_referral(fields, today=TODAY, tz=LONDON, la_known=lambda t: True)
    assert problems == []
    assert form.form_id == "48213"
    assert form.decision_letter_sent_on == date(2026, 11, 12)
    assert form.submitted_at == datetime(2026, 11, 20, 14, 3, tzinfo=LONDON)
    assert form.health_issues and form.wants_mediation == "undecided"
    assert form.requester_role == "young_person"


def test_parsers():
    assert parse_date("02/03/2015") == date(2015, 3, 2)
    assert parse_date("2015-3-2") is None
    assert parse_sections("b, f ; Section I") == (["B", "F", "I"], [])
    assert parse_sections(["B", "X"]) == (["B"], ["X"])
    assert flatten({"Form_ID ": "A", "child": {"name": "N"}, "decision": {"letter_sent_on": "d"}}) == {
        "form_id": "A",
        "child_name": "N",
        "decision_letter_sent_on": "d",
    }


def test_submitted_with_offset_is_converted():
    form, _ = check(submitted_at="2026-11-20T23:30:00-05:00")
    assert form.submitted_at.astimezone(UTC) == datetime(2026, 11, 21, 4, 30, tzinfo=UTC)
    assert form.received_on == date(2026, 11, 21)


def test_a_spreadsheet_style_uk_date_and_time_is_local_time():
    # "20/06/2026 23:30" is London time (BST): received on 20 June, 22:30 UTC
    form, problems = check(submitted_at="20/06/2026 23:30", decision_letter_sent_on="2026-06-01")
    assert problems == []
    assert form.received_on == date(2026, 6, 20)
    assert form.submitted_at.astimezone(UTC) == datetime(2026, 6, 20, 22, 30, tzinfo=UTC)
    form, _ = check(submitted_at="2/11/2026 09:05:30", decision_letter_sent_on="2026-11-01")
    assert form.submitted_at == datetime(2026, 11, 2, 9, 5, 30, tzinfo=LONDON)
    _, problems = check(submitted_at="31/02/2026 10:00")
    assert "submitted_at '31/02/2026 10:00' is not a date and time" in texts(problems)

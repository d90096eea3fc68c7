"""`drs certificate issue`: the PDF read back with pypdf, the email with it attached, the event that
moves the appeal deadline, and the refusals (issue #4)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import select

from tests.monitor_cases import FAMILY_EMAIL, PERSONAL, clock_state, make_case

SALFORD = "E08000006"


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_certificate_pdf_shows_every_field_and_is_emailed_to_the_family(las, drs, drs_env):
    from models.db import CaseEvent, OutboxEmail
    from tasks.db import unit_of_work

    # worked example (VERIFIED): decision Thu 1 Oct 2026, certificate Fri 27 Nov 2026 -> Mon 4 Jan 2027
    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        events=(("information-given", date(2026, 11, 23), {}), ("mediation-declined", date(2026, 11, 24), {})),
    )
    r = drs(
        "certificate", "issue", ref, "--on", "2026-11-27", "--today", "2026-11-27", "--adviser", "Jo Adviser", "--json"
    )
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert (doc["type"], doc["trigger_on"], doc["appeal_deadline"], doc["emailed_to"]) == (
        "declined",
        "2026-11-24",
        "2027-01-04",
        "family",
    )
    path = Path(doc["pdf"])
    assert path.parent == drs_env.certificates_dir and path.name == f"{doc['number']}.pdf"
    text = pdf_text(path.read_bytes())
    for expected in (
        "SEND Mediation and Disagreement Resolution Service",
        "Jo Adviser",
        PERSONAL[0],
        PERSONAL[1],
        "Salford",
        "not to carry out an EHC needs assessment",
        "Thursday 1 October 2026",
        "declined",
        doc["number"],
        "Friday 27 November 2026",
        "Tuesday 24 November 2026",
        "Monday 4 January 2027",
        ref,
    ):
        assert expected in text, expected
    assert clock_state(ref, "certificate_due")[0] == "met"
    assert clock_state(ref, "appeal_deadline")[1] == date(2027, 1, 4)
    with unit_of_work() as db:
        email = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "certificate"))
        assert email.to_addr == FAMILY_EMAIL and PERSONAL[1] not in email.subject
        assert email.attachments[0].mime_type == "application/pdf"
        assert pdf_text(email.attachments[0].content) == text
        events = [e.event for e in db.scalars(select(CaseEvent).order_by(CaseEvent.id))]
        assert events[-1] == "certificate-issued"


def test_a_second_certificate_for_the_same_trigger_is_refused(las, drs):
    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    assert drs("certificate", "issue", ref, "--on", "2026-11-25", "--today", "2026-11-26").exit_code == 0
    r = drs("certificate", "issue", ref, "--on", "2026-11-26", "--today", "2026-11-26")
    assert r.exit_code == 2
    assert "already issued" in r.stderr and "second" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_type_is_inferred_from_the_latest_trigger_and_checked_when_given(las, drs):
    # deemed (SECONDARY): LA says on Wed 24 Dec 2025 it cannot arrange -> due Wed 31 Dec 2025
    ref = make_case(
        SALFORD,
        received_on=date(2025, 11, 27),
        letter_sent_on=date(2025, 11, 20),
        events=(
            ("mediation-requested", date(2025, 11, 28), {}),
            ("la-received-request", date(2025, 12, 1), {}),
            ("la-cannot-arrange", date(2025, 12, 24), {}),
        ),
    )
    r = drs("certificate", "issue", ref, "--on", "2025-12-29", "--today", "2025-12-29", "--type", "after-mediation")
    assert r.exit_code == 2 and "no mediation-concluded event" in r.stderr
    r = drs("certificate", "issue", ref, "--on", "2025-12-23", "--today", "2025-12-29")
    assert r.exit_code == 2 and "before the trigger" in r.stderr
    r = drs("certificate", "issue", ref, "--on", "2025-12-30", "--today", "2025-12-29")
    assert r.exit_code == 2 and "future" in r.stderr
    r = drs("certificate", "issue", ref, "--on", "2025-12-29", "--today", "2025-12-29", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["type"] == "deemed"


def test_no_certificate_without_a_trigger_or_when_none_is_needed(las, drs):
    undecided = make_case(SALFORD, received_on=date(2026, 11, 20), letter_sent_on=date(2026, 10, 1))
    r = drs("certificate", "issue", undecided, "--on", "2026-11-25", "--today", "2026-11-25")
    assert r.exit_code == 2 and "nothing gives a certificate yet" in r.stderr
    school_only = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        decision_type="plan_contents",
        sections=["I"],
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    r = drs("certificate", "issue", school_only, "--on", "2026-11-25", "--today", "2026-11-25")
    assert r.exit_code == 2 and "section I only" in r.stderr
    r = drs("certificate", "issue", "DRS-2026-99999", "--on", "2026-11-25", "--today", "2026-11-25")
    assert r.exit_code == 2 and "unknown case" in r.stderr


def test_a_family_without_email_gets_the_certificate_through_the_team(las, drs):
    from models.db import OutboxEmail
    from tasks.db import unit_of_work

    ref = make_case(
        SALFORD,
        received_on=date(2026, 11, 20),
        letter_sent_on=date(2026, 10, 1),
        email=None,
        events=(("mediation-declined", date(2026, 11, 24), {}),),
    )
    r = drs("certificate", "issue", ref, "--on", "2026-11-25", "--today", "2026-11-25", "--json")
    assert r.exit_code == 0 and r.json()["emailed_to"] == "team"
    with unit_of_work() as db:
        email = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "certificate-no-email"))
        assert email.to_addr == "team@service.example.org" and "post" in email.body_text


def test_wording_for_every_type_explains_the_appeal_deadline():
    from models.domain.certificates import wording

    for cert_type in ("declined", "withdrawn", "deemed", "after-mediation"):
        w = wording(
            cert_type,
            trigger_on=date(2026, 11, 24),
            issued_on=date(2026, 11, 27),
            decision_type="cease_plan",
            letter_sent_on=date(2026, 10, 1),
            appeal_deadline=date(2027, 1, 4),
        )
        assert "Monday 4 January 2027" in w.appeal_meaning and "Tuesday 24 November 2026" in w.statement
        assert "cease to maintain" in w.decision

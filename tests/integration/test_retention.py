"""Retention against the real databases: personal data of long-closed cases goes, figures stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models.db import (
    AuditEntry,
    Case,
    CaseEvent,
    Certificate,
    ExpenseClaim,
    MediationSession,
    OutboxEmail,
    SessionAttendee,
)
from tasks.db import unit_of_work

TODAY = date(2026, 11, 29)  # a Sunday, when the job runs
NOW = datetime(2026, 11, 29, 4, 30, tzinfo=UTC)
CREATED = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)


def _case(db, la, n: int, closed_on: date | None):
    from tasks.cases.casework import find_local_authority, new_case, record_event

    received = date(2024, 1, 5)
    case = new_case(
        db,
        la=find_local_authority(db, la),
        service="mediation",
        received_on=received,
        now=CREATED,
        today=received,
        recorded_by="test",
        requester_role="parent",
        requester_name=f"Parent {n} Testwell",
        requester_email=f"parent{n}@families.example",
        requester_phone="01610000000",
        requester_postcode="M1 1AA",
        child_name=f"Child {n} Testwell",
        child_date_of_birth=date(2015, 3, 2),
        decision_type="refuse_assessment",
        decision_letter_sent_on=date(2024, 1, 2),
        sections=[],
        health_issues=False,
        social_care_issues=False,
        wants_mediation="no",
        consent_to_contact_la=True,
        notes="Mum prefers calls after 3pm",
        flags=[],
    )
    record_event(
        db,
        case,
        "information-given",
        date(2024, 1, 8),
        now=CREATED,
        today=TODAY,
        recorded_by="test",
        note="Spoke to Parent about their son",
    )
    if closed_on:
        record_event(db, case, "mediation-declined", date(2024, 1, 9), now=CREATED, today=TODAY, recorded_by="test")
        record_event(db, case, "closed", closed_on, now=CREATED, today=TODAY, recorded_by="test")
        case.status = "closed"
    return case


def _extras(db, case, tmp_path, n: int) -> None:
    """A held meeting with an attendee, a sent email with an attachment, a certificate PDF, claims."""
    from tasks.cases.registry import add_mediator
    from tasks.mail.attachment import Attachment
    from tasks.mail.outbox import queue_email

    mediator, _ = add_mediator(db, "Mediator Test", f"mediator{n}@service.example", CREATED)
    db.flush()
    start = datetime(2024, 2, 1, 10, tzinfo=UTC)
    meeting = MediationSession(
        case_id=case.id,
        mediator_id=mediator.id,
        uid=f"test-{n}@drs",
        sequence=0,
        start_at=start,
        end_at=start + timedelta(hours=2),
        status="held",
        venue="Community Centre, 1 Example Street",
        access_notes="Parent uses a wheelchair",
        online_url=None,
        booked_at=CREATED,
        updated_at=CREATED,
    )
    db.add(meeting)
    db.flush()
    db.add(
        SessionAttendee(
            session_id=meeting.id, role="family", name=f"Parent {n} Testwell", email=f"parent{n}@families.example"
        )
    )
    row = queue_email(
        db,
        key=f"ack-{n}",
        kind="acknowledgement",
        to=f"parent{n}@families.example",
        subject=f"Your referral {case.ref}",
        text=f"Dear Parent {n} Testwell",
        html="<p>Dear Parent</p>",
        now=CREATED,
        case_id=case.id,
        attachments=[Attachment("letter.pdf", "application/pdf", b"%PDF name")],
    )
    row.status, row.sent_at = "sent", CREATED
    pdf = tmp_path / f"certificate-{n}.pdf"
    pdf.write_bytes(b"%PDF Child name")
    db.add(
        Certificate(
            number=f"CERT-{n}",
            case_id=case.id,
            type="declined",
            trigger_on=date(2024, 1, 9),
            issued_on=date(2024, 1, 10),
            pdf_path=str(pdf),
            status="issued",
            created_at=CREATED,
        )
    )
    for suffix, status in (("paid", "paid"), ("held", "held")):
        db.add(
            ExpenseClaim(
                claim_id=f"C-{n}-{suffix}",
                case_id=case.id,
                session_id=meeting.id,
                session_date=date(2024, 2, 1),
                claimant_name=f"Parent {n} Testwell",
                claimant_email=f"parent{n}@families.example",
                category="mileage",
                miles=20,
                rate_pence=45,
                amount_pence=900,
                receipt=False,
                description="Trip for Parent",
                status=status,
                paid_on=date(2024, 3, 1) if status == "paid" else None,
                imported_at=CREATED,
                updated_at=CREATED,
            )
        )


@pytest.fixture
def cases(las, tmp_path):
    with unit_of_work() as db:
        old = _case(db, "Salford", 1, closed_on=date(2024, 11, 28))  # closed 2 years + 1 day ago
        boundary = _case(db, "Bolton", 2, closed_on=date(2024, 11, 29))  # exactly 24 months: due
        recent = _case(db, "Manchester", 3, closed_on=date(2024, 12, 2))  # not yet
        open_case = _case(db, "Salford", 4, closed_on=None)  # never closed
        _extras(db, old, tmp_path, 1)
        _extras(db, recent, tmp_path, 3)
        db.commit()
        return {"old": old.ref, "boundary": boundary.ref, "recent": recent.ref, "open": open_case.ref}


def _by_ref(db, ref):
    return db.scalar(select(Case).where(Case.ref == ref))


def test_retention_anonymises_long_closed_cases_and_keeps_the_figures(cases, tmp_path):
    from tasks.privacy.retention import anonymise_closed_cases

    summary = anonymise_closed_cases(TODAY, NOW)

    assert sorted(summary.refs) == sorted([cases["old"], cases["boundary"]])
    assert summary.cases == 2 and summary.emails == 1 and summary.attendees == 1 and summary.certificates == 1
    assert summary.claims == 1 and summary.claims_waiting_for_payment == 1
    with unit_of_work() as db:
        old = _by_ref(db, cases["old"])
        assert old.anonymised_at is not None
        for column in (
            "requester_name",
            "requester_email",
            "requester_phone",
            "requester_postcode",
            "child_name",
            "child_date_of_birth",
            "notes",
        ):
            assert getattr(old, column) is None, column
        # figures and codes stay
        assert (old.status, old.decision_type, old.received_on, old.local_authority.code) == (
            "closed",
            "refuse_assessment",
            date(2024, 1, 5),
            "E08000006",
        )
        assert {e.event for e in old.events} >= {"information-given", "closed"}
        assert all(e.note is None for e in old.events)
        assert len(old.clocks) > 0
        meeting = db.scalar(select(MediationSession).where(MediationSession.case_id == old.id))
        assert meeting.access_notes is None and meeting.venue.startswith("Community Centre")
        attendee = db.scalar(select(SessionAttendee).where(SessionAttendee.session_id == meeting.id))
        assert (attendee.name, attendee.email, attendee.role) == (None, None, "family")
        email = db.scalar(select(OutboxEmail).where(OutboxEmail.case_id == old.id))
        assert "Testwell" not in email.body_text and email.body_html is None and email.attachments == []
        assert "parent1" not in email.to_addr
        cert = db.scalar(select(Certificate).where(Certificate.case_id == old.id))
        assert cert.pdf_path is None and cert.number == "CERT-1"
        assert not (tmp_path / "certificate-1.pdf").exists()
        paid = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == "C-1-paid"))
        assert (paid.claimant_name, paid.claimant_email, paid.description) == (None, None, None)
        assert (paid.amount_pence, paid.category, paid.status) == (900, "mileage", "paid")
        held = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == "C-1-held"))
        assert held.claimant_email == "parent1@families.example"  # still needed to pay it
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "case:anonymised")).all()
        assert sorted(a.detail["ref"] for a in audit) == sorted([cases["old"], cases["boundary"]])

        recent = _by_ref(db, cases["recent"])
        assert recent.anonymised_at is None and recent.requester_name == "Parent 3 Testwell"
        assert (tmp_path / "certificate-3.pdf").exists()
        assert db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == "C-3-paid")).claimant_name
        assert _by_ref(db, cases["open"]).child_name == "Child 4 Testwell"


def test_retention_is_idempotent_and_clears_claims_once_paid(cases):
    from tasks.privacy.retention import anonymise_closed_cases

    anonymise_closed_cases(TODAY, NOW)
    with unit_of_work() as db:
        held = db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == "C-1-held"))
        held.status, held.paid_on = "paid", date(2026, 12, 1)
        db.commit()
    again = anonymise_closed_cases(TODAY + timedelta(days=1), NOW + timedelta(days=1))
    assert again.cases == 0 and again.refs == []
    assert again.claims == 1 and again.claims_waiting_for_payment == 0
    with unit_of_work() as db:
        assert db.scalar(select(ExpenseClaim).where(ExpenseClaim.claim_id == "C-1-held")).claimant_email is None
        notes = db.scalars(select(CaseEvent.note).join(Case).where(Case.ref == cases["recent"])).all()
        assert "Spoke to Parent about their son" in notes

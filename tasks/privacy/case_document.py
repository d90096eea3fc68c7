"""The `case.json` of a subject access export: everything held about one case, with its files.

`case_export(db, case, folder)` writes `folder/case.json` — the case, referrals, events, clocks,
meetings and attendees, emails (with their text), claims, certificates, contact problems and the
audit entries — and copies the email attachments and certificate PDFs beside it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import (
    Case,
    CaseEvent,
    Certificate,
    Clock,
    ExpenseClaim,
    MediationSession,
    OutboxEmail,
    Referral,
)
from tasks.privacy.audit_trail import read_audit


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-]", "_", name)[:100] or "file"


def email_json(row: OutboxEmail, folder: Path | None) -> dict[str, Any]:
    files = []
    for n, att in enumerate(row.attachments, 1):
        item = {"filename": att.filename, "mime_type": att.mime_type, "size": len(att.content)}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{row.id}-{n}-{_safe(att.filename)}"
            target.write_bytes(att.content)
            item["file"] = f"emails/{target.name}"
        files.append(item)
    return {
        "id": row.id,
        "kind": row.kind,
        "to": row.to_addr,
        "subject": row.subject,
        "status": row.status,
        "queued_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
        "text": row.body_text,
        "html": row.body_html,
        "attachments": files,
    }


def case_export(db: Session, case: Case, folder: Path) -> dict[str, Any]:
    """Write `folder/case.json` and the files of `case`; returns the document."""
    folder.mkdir(parents=True, exist_ok=True)
    emails = db.scalars(select(OutboxEmail).where(OutboxEmail.case_id == case.id).order_by(OutboxEmail.id)).all()
    doc = _case_fields(case) | {
        "referrals": _referrals(db, case.id),
        "events": _events(db, case.id),
        "clocks": _clocks(db, case.id),
        "meetings": _meetings(db, case.id),
        "emails": [email_json(e, folder / "emails") for e in emails],
        "claims": _claims(db, case.id),
        "certificates": _certificates(db, case.id, folder),
        "contact_problems": _contact_problems(db, case.id),  # issue 15's bounces (qa-15-17)
        "audit": read_audit(db, case_id=case.id),
    }
    (folder / "case.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return doc


def _case_fields(case: Case) -> dict[str, Any]:
    """The case row itself: the family, the child, the decision, the hold."""
    return {
        "ref": case.ref,
        "service": case.service,
        "status": case.status,
        "local_authority": {"code": case.local_authority.code, "name": case.local_authority.name},
        "received_on": iso(case.received_on),
        "requester": {
            "role": case.requester_role,
            "name": case.requester_name,
            "email": case.requester_email,
            "phone": case.requester_phone,
            "postcode": case.requester_postcode,
        },
        "child": {"name": case.child_name, "date_of_birth": iso(case.child_date_of_birth)},
        "decision": {"type": case.decision_type, "letter_sent_on": iso(case.decision_letter_sent_on)},
        "sections": list(case.sections or []),
        "health_issues": case.health_issues,
        "social_care_issues": case.social_care_issues,
        "wants_mediation": case.wants_mediation,
        "consent_to_contact_la": case.consent_to_contact_la,
        "notes": case.notes,
        "flags": list(case.flags or []),
        "appeal_lodged": case.appeal_lodged,
        "created_at": iso(case.created_at),
        "anonymised_at": iso(case.anonymised_at),
        "legal_hold": (
            {"reason": case.legal_hold_reason, "since": iso(case.legal_hold_since), "by": case.legal_hold_by}
            if case.legal_hold_reason
            else None
        ),
    }


def _referrals(db: Session, case_id: int) -> list[dict[str, Any]]:
    referrals = db.scalars(select(Referral).where(Referral.case_id == case_id).order_by(Referral.id)).all()
    return [
        {
            "form_id": r.form_id,
            "submitted_at": iso(r.submitted_at),
            "received_at": iso(r.received_at),
            "linked": r.linked,
        }
        for r in referrals
    ]


def _events(db: Session, case_id: int) -> list[dict[str, Any]]:
    events = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.on, CaseEvent.id)
    ).all()
    return [
        {
            "event": e.event,
            "on": iso(e.on),
            "note": e.note,
            "health": e.health,
            "type": e.cert_type,
            "items": list(e.items or []),
            "detail": e.detail,
            "recorded_at": iso(e.recorded_at),
            "recorded_by": e.recorded_by,
        }
        for e in events
    ]


def _clocks(db: Session, case_id: int) -> list[dict[str, Any]]:
    clocks = db.scalars(select(Clock).where(Clock.case_id == case_id).order_by(Clock.due, Clock.name)).all()
    return [
        {
            "name": c.name,
            "due": iso(c.due),
            "target": iso(c.target),
            "state": c.state,
            "owner": c.owner,
            "met_on": iso(c.met_on),
        }
        for c in clocks
    ]


def _meetings(db: Session, case_id: int) -> list[dict[str, Any]]:
    meetings = db.scalars(
        select(MediationSession).where(MediationSession.case_id == case_id).order_by(MediationSession.start_at)
    ).all()
    return [
        {
            "id": m.id,
            "start": iso(m.start_at),
            "end": iso(m.end_at),
            "venue": m.venue,
            "online_url": m.online_url,
            "access_notes": m.access_notes,
            "status": m.status,
            "outcome": m.outcome,
            "outcome_on": iso(m.outcome_on),
            "cancelled_by": m.cancelled_by,
            "attendees": [{"role": a.role, "name": a.name, "email": a.email} for a in m.attendees],
        }
        for m in meetings
    ]


def _claims(db: Session, case_id: int) -> list[dict[str, Any]]:
    claims = db.scalars(select(ExpenseClaim).where(ExpenseClaim.case_id == case_id).order_by(ExpenseClaim.id)).all()
    return [
        {
            "claim_id": c.claim_id,
            "session_date": iso(c.session_date),
            "claimant_name": c.claimant_name,
            "claimant_email": c.claimant_email,
            "category": c.category,
            "miles": str(c.miles) if c.miles is not None else None,
            "amount_pence": c.amount_pence,
            "receipt": c.receipt,
            "description": c.description,
            "status": c.status,
            "reason": c.reason,
            "paid_on": iso(c.paid_on),
        }
        for c in claims
    ]


def _certificates(db: Session, case_id: int, folder: Path) -> list[dict[str, Any]]:
    """The case's certificates; each PDF still on disk is copied to `folder/certificates/`."""
    certificates = db.scalars(select(Certificate).where(Certificate.case_id == case_id).order_by(Certificate.id)).all()
    cert_items = []
    for c in certificates:
        item = {
            "number": c.number,
            "type": c.type,
            "trigger_on": iso(c.trigger_on),
            "issued_on": iso(c.issued_on),
            "status": c.status,
            "adviser": c.adviser,
            "approval_note": c.approval_note,
            "file": None,
        }
        if c.pdf_path and Path(c.pdf_path).is_file():
            target = folder / "certificates" / f"{_safe(c.number)}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(c.pdf_path, target)
            item["file"] = f"certificates/{target.name}"
        cert_items.append(item)
    return cert_items


def _contact_problems(db: Session, case_id: int) -> list[dict[str, Any]]:
    """Every email of the case that bounced, open or closed, with how it was closed (the
    "reached" note is free text about the family). The team's own address is not theirs."""
    from models.db import ContactProblem

    rows = db.scalars(
        select(ContactProblem)
        .where(ContactProblem.case_id == case_id, ContactProblem.recipient_role != "team")
        .order_by(ContactProblem.since, ContactProblem.id)
    )
    return [
        {
            "email_id": p.outbox_id,
            "recipient_role": p.recipient_role,
            "status": p.status_code,
            "reason": p.reason,
            "statutory": bool(p.statutory),
            "since": iso(p.since),
            "open": p.resolved_at is None,
            "resolved_at": iso(p.resolved_at),
            "resolution": p.resolution,
            "note": p.resolution_note,
        }
        for p in rows
    ]

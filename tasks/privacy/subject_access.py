"""Subject access: everything the service holds about a family, as JSON plus the files.

`export_case(ref, out)` writes one case; `export_for_address(email, out)` finds every case where
the address is the family's (the requester's, or a claim's payee) and writes each, plus the emails
sent to that address and the meeting places it was invited to that belong to no such case. Each
export is a folder:

    README.txt                 what is in the folder, in plain English
    <REF>/case.json            the case, referrals, events, clocks, meetings and attendees, emails
                               (with their text), claims, certificates and the audit entries
    <REF>/emails/<id>-<name>   the attachments of each email (invites, PDFs, workbooks)
    <REF>/certificates/<number>.pdf
    other-emails.json          (by address only) emails to the address outside those cases

Every export is audited (`read:case-export` / `read:subject-access`, references only).
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
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
    SessionAttendee,
)
from models.domain.fields import email_problem
from tasks.cases.casework import get_case
from tasks.db import unit_of_work
from tasks.privacy.audit_trail import log_read, read_audit

README = """What this folder holds
=====================

This is a copy of everything the SEND mediation and disagreement resolution service holds about
{who}, made on {made} (UK GDPR, right of access).

There is one folder for each case, named by its reference (for example DRS-2026-00042):

- case.json: the case as we hold it - who asked for help and about which child, the local
  authority and its decision, everything that happened and when (events), the deadlines we track
  (clocks), mediation meetings and who was invited, every email we sent or were about to send
  (with its full text), expense claims, certificates, emails that could not be delivered to you
  and how we reached you instead (contact problems), and our audit log of who looked at or
  changed the case and when.
- emails/: the files attached to those emails (meeting invitations, certificates, spreadsheets),
  named by the email's number in case.json.
- certificates/: the mediation certificates we issued, as PDF files.
{other}
JSON files can be opened with any text editor. Dates are written year-month-day; times are in
UTC (British winter time; add one hour in summer).

Data we have anonymised under our retention policy, or erased at your request, is no longer
held and so does not appear here. If something is missing or wrong, please reply to the email
this came with: you can ask us to correct it.
"""

OTHER = """- other-emails.json: emails we sent to this address that belong to no case of the family
  (for example invitations to a meeting about another case, as a supporter).
"""


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-]", "_", name)[:100] or "file"


def _email_json(row: OutboxEmail, folder: Path | None) -> dict[str, Any]:
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
        "queued_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "text": row.body_text,
        "html": row.body_html,
        "attachments": files,
    }


def case_export(db: Session, case: Case, folder: Path) -> dict[str, Any]:
    """Write `folder/case.json` and the files of `case`; returns the document."""
    folder.mkdir(parents=True, exist_ok=True)
    referrals = db.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)).all()
    events = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.on, CaseEvent.id)
    ).all()
    clocks = db.scalars(select(Clock).where(Clock.case_id == case.id).order_by(Clock.due, Clock.name)).all()
    meetings = db.scalars(
        select(MediationSession).where(MediationSession.case_id == case.id).order_by(MediationSession.start_at)
    ).all()
    emails = db.scalars(select(OutboxEmail).where(OutboxEmail.case_id == case.id).order_by(OutboxEmail.id)).all()
    claims = db.scalars(select(ExpenseClaim).where(ExpenseClaim.case_id == case.id).order_by(ExpenseClaim.id)).all()
    certificates = db.scalars(select(Certificate).where(Certificate.case_id == case.id).order_by(Certificate.id)).all()
    cert_items = []
    for c in certificates:
        item = {
            "number": c.number,
            "type": c.type,
            "trigger_on": _iso(c.trigger_on),
            "issued_on": _iso(c.issued_on),
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
    doc = {
        "ref": case.ref,
        "service": case.service,
        "status": case.status,
        "local_authority": {"code": case.local_authority.code, "name": case.local_authority.name},
        "received_on": _iso(case.received_on),
        "requester": {
            "role": case.requester_role,
            "name": case.requester_name,
            "email": case.requester_email,
            "phone": case.requester_phone,
            "postcode": case.requester_postcode,
        },
        "child": {"name": case.child_name, "date_of_birth": _iso(case.child_date_of_birth)},
        "decision": {"type": case.decision_type, "letter_sent_on": _iso(case.decision_letter_sent_on)},
        "sections": list(case.sections or []),
        "health_issues": case.health_issues,
        "social_care_issues": case.social_care_issues,
        "wants_mediation": case.wants_mediation,
        "consent_to_contact_la": case.consent_to_contact_la,
        "notes": case.notes,
        "flags": list(case.flags or []),
        "appeal_lodged": case.appeal_lodged,
        "created_at": _iso(case.created_at),
        "anonymised_at": _iso(case.anonymised_at),
        "legal_hold": (
            {"reason": case.legal_hold_reason, "since": _iso(case.legal_hold_since), "by": case.legal_hold_by}
            if case.legal_hold_reason
            else None
        ),
        "referrals": [
            {
                "form_id": r.form_id,
                "submitted_at": _iso(r.submitted_at),
                "received_at": _iso(r.received_at),
                "linked": r.linked,
            }
            for r in referrals
        ],
        "events": [
            {
                "event": e.event,
                "on": _iso(e.on),
                "note": e.note,
                "health": e.health,
                "type": e.cert_type,
                "items": list(e.items or []),
                "detail": e.detail,
                "recorded_at": _iso(e.recorded_at),
                "recorded_by": e.recorded_by,
            }
            for e in events
        ],
        "clocks": [
            {
                "name": c.name,
                "due": _iso(c.due),
                "target": _iso(c.target),
                "state": c.state,
                "owner": c.owner,
                "met_on": _iso(c.met_on),
            }
            for c in clocks
        ],
        "meetings": [
            {
                "id": m.id,
                "start": _iso(m.start_at),
                "end": _iso(m.end_at),
                "venue": m.venue,
                "online_url": m.online_url,
                "access_notes": m.access_notes,
                "status": m.status,
                "outcome": m.outcome,
                "outcome_on": _iso(m.outcome_on),
                "cancelled_by": m.cancelled_by,
                "attendees": [{"role": a.role, "name": a.name, "email": a.email} for a in m.attendees],
            }
            for m in meetings
        ],
        "emails": [_email_json(e, folder / "emails") for e in emails],
        "claims": [
            {
                "claim_id": c.claim_id,
                "session_date": _iso(c.session_date),
                "claimant_name": c.claimant_name,
                "claimant_email": c.claimant_email,
                "category": c.category,
                "miles": str(c.miles) if c.miles is not None else None,
                "amount_pence": c.amount_pence,
                "receipt": c.receipt,
                "description": c.description,
                "status": c.status,
                "reason": c.reason,
                "paid_on": _iso(c.paid_on),
            }
            for c in claims
        ],
        "certificates": cert_items,
        "contact_problems": _contact_problems(db, case.id),  # issue 15's bounces (qa-15-17)
        "audit": read_audit(db, case_id=case.id),
    }
    (folder / "case.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return doc


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
            "since": _iso(p.since),
            "open": p.resolved_at is None,
            "resolved_at": _iso(p.resolved_at),
            "resolution": p.resolution,
            "note": p.resolution_note,
        }
        for p in rows
    ]


def _readme(out: Path, who: str, now: datetime, other: bool) -> None:
    (out / "README.txt").write_text(
        README.format(who=who, made=now.strftime("%d %B %Y"), other=OTHER if other else ""), encoding="utf-8"
    )


def export_case(ref: str, out: Path, now: datetime, *, actor: str = "cli:case-export") -> dict[str, Any]:
    """Export case `ref` into `out` (created); audited. Returns {"refs", "out", "files"}."""
    out = Path(out)
    with unit_of_work() as db:
        case = get_case(db, ref)
        out.mkdir(parents=True, exist_ok=True)
        case_export(db, case, out / case.ref)
        _readme(out, f"the family in case {case.ref}", now, other=False)
        log_read(db, "case-export", case.id, now, {"ref": case.ref}, actor=actor)
        db.commit()
        return {"refs": [case.ref], "out": str(out), "files": _count(out)}


def cases_for_address(db: Session, email: str) -> list[Case]:
    """Cases where `email` is the family's: the requester, or the payee of a claim."""
    wanted = email.strip().lower()
    claim_cases = select(ExpenseClaim.case_id).where(func.lower(ExpenseClaim.claimant_email) == wanted)
    return list(
        db.scalars(
            select(Case)
            .where(or_(func.lower(Case.requester_email) == wanted, Case.id.in_(claim_cases)))
            .order_by(Case.ref)
        )
    )


def export_for_address(email: str, out: Path, now: datetime, *, actor: str = "cli:subject-access") -> dict[str, Any]:
    """Export everything held about the person with address `email` into `out`; audited."""
    wanted = (email or "").strip().lower()
    if email_problem(wanted):
        raise ValueError("--email must be an email address")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with unit_of_work() as db:
        cases = cases_for_address(db, wanted)
        ids = [c.id for c in cases]
        for case in cases:
            case_export(db, case, out / case.ref)
            log_read(db, "subject-access", case.id, now, {"ref": case.ref, "cases": len(cases)}, actor=actor)
        others = db.scalars(
            select(OutboxEmail)
            .where(
                func.lower(OutboxEmail.to_addr) == wanted,
                or_(OutboxEmail.case_id.is_(None), OutboxEmail.case_id.not_in(ids or [-1])),
            )
            .order_by(OutboxEmail.id)
        ).all()
        attendees = db.execute(
            select(SessionAttendee, MediationSession)
            .join(MediationSession)
            .where(func.lower(SessionAttendee.email) == wanted, MediationSession.case_id.not_in(ids or [-1]))
        ).all()
        other = bool(others or attendees)
        if other:
            doc = {
                "emails": [_email_json(e, out / "other-emails") for e in others],
                "meetings": [
                    {
                        "start": _iso(m.start_at),
                        "venue": m.venue,
                        "status": m.status,
                        "attendee": {"role": a.role, "name": a.name, "email": a.email},
                    }
                    for a, m in attendees
                ],
            }
            (out / "other-emails.json").write_text(
                json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
            )
        if not cases:
            log_read(db, "subject-access", None, now, {"cases": 0, "other_emails": len(others)}, actor=actor)
        _readme(out, "the person with the email address given in the request", now, other=other)
        db.commit()
        return {"refs": [c.ref for c in cases], "other_emails": len(others), "out": str(out), "files": _count(out)}


def _count(out: Path) -> int:
    return sum(1 for p in out.rglob("*") if p.is_file())

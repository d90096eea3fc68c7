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
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.db import Case, ExpenseClaim, MediationSession, OutboxEmail, SessionAttendee
from tasks.cases.store import get_case
from tasks.db import unit_of_work
from tasks.privacy.audit_trail import log_read
from tasks.privacy.case_document import case_export, email_json, iso

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
    if "@" not in wanted:
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
                "emails": [email_json(e, out / "other-emails") for e in others],
                "meetings": [
                    {
                        "start": iso(m.start_at),
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

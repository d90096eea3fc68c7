"""Closing the loop on a contact problem: correct the address, or record the family was told.

- `correct_address(ref, email, role=...)` (`drs case contact REF --email NEW [--role R]`): the
  case's address for `role` is replaced (audited, without the addresses), every statutory email
  that bounced to the old address is queued again to the new one — a new outbox row with the same
  content, key `resend:<outbox id>` (no personal data) so it is queued exactly once however often
  the command runs — emails still waiting in the outbox are re-addressed, and the problems close.
- `record_reached(ref, by=..., on=...)` (`--reached --by phone|letter --on D [--note T]`): the
  family was told another way; their open problems close. The note is personal data: it is kept
  on the problem only until retention clears it, never in the audit log.
- `settle_la_problems(db, now)` (every `bounce-check`): an LA problem closes once the register
  holds a different address for that field; a bounced LA request or claims batch is re-sent there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.db import ContactProblem, LocalAuthority, MediationSession, OutboxEmail, SessionAttendee
from models.domain.referrals import looks_like_email
from tasks.cases.casework import CaseworkError, audit, check_event_date, get_case
from tasks.mail.attachment import Attachment
from tasks.mail.outbox import queue_email

ROLES = ("family", "supporter", "icb", "mediator", "other")
REACHED_BY = ("phone", "letter")
#: sent again to a corrected LA register address: the request to arrange mediation, and the claims
#: batch the LA must pay from (CFA s.56)
LA_RESEND_KINDS = frozenset({"la-mediation-request", "claim-batch"})


@dataclass
class ContactResult:
    case_ref: str
    role: str
    resolved: int = 0
    resent: list[str] = field(default_factory=list)  # new outbox keys
    readdressed: int = 0
    action: str = "corrected"

    def as_dict(self) -> dict:
        return asdict(self)


def _open_problems(db: Session, case_id: int, role: str) -> list[ContactProblem]:
    return list(
        db.scalars(
            select(ContactProblem)
            .where(
                ContactProblem.case_id == case_id,
                ContactProblem.recipient_role == role,
                ContactProblem.resolved_at.is_(None),
            )
            .order_by(ContactProblem.id)
        )
    )


def resend(db: Session, row: OutboxEmail, to: str, now: datetime) -> OutboxEmail | None:
    """Queue `row` again, same content, to `to` (key `resend:<id>`); None when queued before."""
    return queue_email(
        db,
        key=f"resend:{row.id}",
        kind=row.kind,
        to=to,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        now=now,
        case_id=row.case_id,
        attachments=[Attachment(a.filename, a.mime_type, a.content) for a in row.attachments],
    )


def _check_new_address(email: str, role: str) -> str:
    email = (email or "").strip()
    if not looks_like_email(email) or any(c in email for c in "\r\n"):
        raise CaseworkError("--email is not a valid email address")
    if role == "la":
        raise CaseworkError("an LA's address belongs to the LA register: correct it with `drs la import`")
    if role not in ROLES:
        raise CaseworkError(f"unknown role {role!r} (expected one of: {', '.join(ROLES)})")
    return email


def _resend_and_close(
    db: Session, problems: list[ContactProblem], rows: dict[int, OutboxEmail | None], email: str, now: datetime
) -> tuple[int, list[str]]:
    """Re-send each statutory email that bounced to `email` and close every problem: (closed, new keys)."""
    resent: list[str] = []
    for p in problems:
        row = rows[p.id]
        if row is not None and p.statutory and row.status in ("bounced", "failed", "sent"):
            new = resend(db, row, email, now)
            if new is not None:
                db.flush()
                p.resent_outbox_id = new.id
                resent.append(new.key)
        p.resolved_at, p.resolution = now, "corrected"
    return len(problems), resent


def _readdress_pending(db: Session, case_id: int, old: set[str], email: str) -> int:
    """Emails of the case still waiting for one of the `old` addresses go to `email` instead."""
    if not old:
        return 0
    done = db.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.case_id == case_id,
            OutboxEmail.status == "pending",
            func.lower(OutboxEmail.to_addr).in_(sorted(old)),
        )
        .values(to_addr=email)
        .execution_options(synchronize_session=False)
    )
    return getattr(done, "rowcount", 0) or 0


def correct_address(ref: str, email: str, *, role: str = "family", now: datetime, actor: str) -> ContactResult:
    """Replace the case's `role` address with `email` and re-send the statutory emails that
    bounced (see the module docstring). Raises `CaseworkError` for an unknown case, a bad
    address or role. Commits."""
    from tasks.db import unit_of_work

    email = _check_new_address(email, role)
    with unit_of_work() as db:
        case = get_case(db, ref, for_update=True)
        result = ContactResult(case.ref, role)
        old: set[str] = set()
        if role == "family":
            if case.requester_email:
                old.add(case.requester_email.strip().lower())
            case.requester_email = email
        attendees = db.scalars(
            select(SessionAttendee)
            .join(MediationSession, MediationSession.id == SessionAttendee.session_id)
            .where(MediationSession.case_id == case.id, SessionAttendee.role == role)
        ).all()
        problems = _open_problems(db, case.id, role)
        bounced_rows = {p.id: db.get(OutboxEmail, p.outbox_id) for p in problems}
        old.update(r.to_addr.strip().lower() for r in bounced_rows.values() if r is not None)
        for a in attendees:
            if a.email and a.email.strip().lower() in old:
                a.email = email
        result.resolved, result.resent = _resend_and_close(db, problems, bounced_rows, email, now)
        result.readdressed = _readdress_pending(db, case.id, old, email)
        audit(
            db,
            actor,
            "contact:corrected",
            case.id,
            now,
            {
                "role": role,
                "problems": result.resolved,
                "resent": list(result.resent),
                "readdressed": result.readdressed,
            },
        )
        db.commit()
    return result


def record_reached(
    ref: str,
    *,
    by: str,
    on: date,
    note: str | None = None,
    role: str = "family",
    now: datetime,
    today: date,
    actor: str,
) -> ContactResult:
    """Close the case's open problems for `role`: the family was told `by` phone or letter `on`
    a date (not in the future). Commits."""
    from tasks.db import unit_of_work

    if by not in REACHED_BY:
        raise CaseworkError(f"--by must be one of: {', '.join(REACHED_BY)}")
    if on > today:
        raise CaseworkError(f"--on {on.isoformat()} is in the future")
    with unit_of_work() as db:
        case = get_case(db, ref, for_update=True)
        check_event_date(case, on, today)  # not before the decision letter or the referral
        result = ContactResult(case.ref, role, action=f"reached-{by}")
        for p in _open_problems(db, case.id, role):
            p.resolved_at, p.resolution, p.resolution_note = now, f"reached-{by}", (note or None)
            result.resolved += 1
        audit(
            db,
            actor,
            "contact:reached",
            case.id,
            now,
            {"role": role, "by": by, "on": on.isoformat(), "problems": result.resolved},
        )
        db.commit()
    return result


def settle_la_problems(db: Session, now: datetime) -> int:
    """Close open LA problems whose register field now holds another address, re-sending a
    statutory email there. Returns how many closed. Commits nothing."""
    closed = 0
    rows = db.execute(
        select(ContactProblem, LocalAuthority)
        .join(LocalAuthority, LocalAuthority.id == ContactProblem.la_id)
        .where(ContactProblem.resolved_at.is_(None))
    ).all()
    for problem, la in rows:
        row = db.get(OutboxEmail, problem.outbox_id)
        current = (getattr(la, problem.la_field) if problem.la_field else None) or ""
        if row is None or not current.strip() or current.strip().lower() == row.to_addr.strip().lower():
            continue
        if problem.hard and (problem.statutory or row.kind in LA_RESEND_KINDS):
            new = resend(db, row, current.strip(), now)
            if new is not None:
                db.flush()
                problem.resent_outbox_id = new.id
        problem.resolved_at, problem.resolution = now, "register-corrected"
        audit(
            db,
            "bounces",
            "contact:register-corrected",
            row.case_id,
            now,
            {"la": la.code, "field": problem.la_field, "outbox_id": row.id},
        )
        closed += 1
    return closed

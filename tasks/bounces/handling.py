"""What a bounce means: the outbox row `bounced`, a contact problem on the case (or on the LA's
register row), and — for a certificate or an appeal reminder — the team told the same day.

`record_bounce(db, outbox_id, status=..., now=..., source=...)` is the one entry point: bounce
notices read from the bounce mailbox (`source="dsn"`) and recipients refused by the relay during
delivery (`source="smtp"`) both land here. Everything takes the open unit of work and commits
nothing (the caller commits the change and the emails it causes together).

Hard and soft (RFC 3463 status classes):
- 5.x.x: the email is `bounced`, with the reason in plain words ("the mailbox does not exist");
  it is a contact problem at once.
- 4.x.x: delivery is retried as before (a relay that gave up on a 4.x.x is retried by our
  delivery); it becomes a contact problem only if it still fails 3 working days after the first
  soft bounce (`promote_soft_problems`, run by every `bounce-check`). Until the row is delivered
  again after the last soft bounce it counts as still failing: a relay never says it delivered.

Privacy: only the status code, the plain-words reason (a fixed table, never the server's text,
which names the address: `tasks.bounces.reasons`) and the outbox link are kept. Reading the
problems back (a case's, the LA register's, the families to phone) is `tasks.bounces.problems`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.db import Case, Clock, ContactProblem, LocalAuthority, MediationSession, OutboxEmail, SessionAttendee
from tasks.bounces.reasons import ESCALATE_KINDS, KIND_WORDS, LA_FIELDS, STATUTORY_KINDS, normalise_status, plain_reason
from tasks.cases.casework import audit
from tasks.settings import get_settings

ACTOR = "bounces"
#: soft bounces become a contact problem after this many working days of failing
SOFT_WORKING_DAYS = 3


@dataclass(frozen=True)
class BounceOutcome:
    """What `record_bounce` did (references and codes only)."""

    outbox_id: int
    case_ref: str | None
    kind: str
    status: str
    hard: bool  # a contact problem now (5.x.x, or a soft bounce still failing after 3 WD)
    escalated: bool  # the team was emailed about it now
    new: bool  # first bounce seen for this email


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def recipient_of(db: Session, row: OutboxEmail) -> tuple[str, LocalAuthority | None, str | None]:
    """(role, LA, LA register field) of the address `row` went to: the family (the case's
    requester), an LA's register address, a meeting attendee's role, the team, a claimant, other."""
    address = row.to_addr.strip().lower()
    case = db.get(Case, row.case_id) if row.case_id else None
    if case is not None and (case.requester_email or "").strip().lower() == address:
        return "family", None, None
    las = db.scalars(
        select(LocalAuthority).where(or_(*(func.lower(getattr(LocalAuthority, f)) == address for f in LA_FIELDS)))
    ).all()
    if las:
        la = next((la for la in las if case is not None and la.id == case.la_id), las[0])
        return "la", la, next(f for f in LA_FIELDS if (getattr(la, f) or "").strip().lower() == address)
    if case is not None:
        role = db.scalar(
            select(SessionAttendee.role)
            .join(MediationSession, MediationSession.id == SessionAttendee.session_id)
            .where(MediationSession.case_id == case.id, func.lower(SessionAttendee.email) == address)
            .limit(1)
        )
        if role:
            return role[:16], None, None
    if address == get_settings().team_email.strip().lower():
        return "team", None, None
    if row.kind.startswith("claim-"):
        return "claimant", None, None
    return "other", None, None


def record_bounce(
    db: Session,
    outbox_id: int,
    *,
    status: str,
    now: datetime,
    source: str,
    action: str | None = None,
    diagnostic: str | None = None,
) -> BounceOutcome | None:
    """Record that outbox row `outbox_id` bounced with enhanced `status` ("5.1.1"); None when no
    such row. `source`: "dsn" (a notice from the bounce mailbox) or "smtp" (refused during
    delivery). `action`: the notice's Action (failed | delayed). `diagnostic` (the server's text,
    which names the address) is accepted for the caller's convenience and never stored.

    Idempotent: the same bounce read twice changes nothing more. A hard bounce marks the row
    `bounced` and opens a contact problem; a certificate or appeal reminder to the family is
    escalated to the team at once (one email per outbox row). Commits nothing.
    """
    del diagnostic  # personal data: never kept
    row = db.get(OutboxEmail, outbox_id)
    if row is None:
        return None
    status = normalise_status(status)
    hard = status.startswith("5")
    problem = db.scalar(select(ContactProblem).where(ContactProblem.outbox_id == row.id))
    new = problem is None
    if problem is None:
        problem = _new_problem(db, row, status, source, now)
    else:
        problem.last_seen_at = max(problem.last_seen_at, now)
        if problem.resolved_at is not None:
            return _outcome(db, row, problem, escalated=False, new=False)
        if hard or not problem.hard:
            problem.status_code, problem.reason, problem.source = status, plain_reason(status), source
    if (
        not hard
        and not problem.hard
        and source == "dsn"
        and (action or "").lower() == "failed"
        and row.status == "sent"
    ):
        _retry_later(row, problem, status, now)
    escalated = False
    if (hard or _soft_expired(problem, now)) and not problem.hard:
        escalated = _make_hard(db, row, problem, now)
    if new:
        audit(
            db,
            ACTOR,
            "email:bounced" if problem.hard else "email:bounced-soft",
            row.case_id,
            now,
            {"outbox_id": row.id, "kind": row.kind, "status": status, "source": source},
        )
    db.flush()
    return _outcome(db, row, problem, escalated=escalated, new=new)


def _new_problem(db: Session, row: OutboxEmail, status: str, source: str, now: datetime) -> ContactProblem:
    """The first bounce of `row`: a (not yet hard) contact problem naming who it went to."""
    role, la, la_field = recipient_of(db, row)
    problem = ContactProblem(  # the team's own address is no contact problem of the case (qa-15-17)
        outbox_id=row.id,
        case_id=None if role == "team" else row.case_id,
        la_id=la.id if la else None,
        recipient_role=role,
        la_field=la_field,
        status_code=status,
        reason=plain_reason(status),
        source=source,
        hard=False,
        statutory=row.kind in STATUTORY_KINDS,
        since=now,
        last_seen_at=now,
    )
    db.add(problem)
    return problem


def _retry_later(row: OutboxEmail, problem: ContactProblem, status: str, now: datetime) -> None:
    """The relay gave up on a temporary failure: retried by our delivery, as any 4xx is."""
    from tasks.mail.delivery import backoff

    row.status, row.next_attempt_at = "pending", now + backoff(max(row.attempts, 1))
    row.last_error = f"bounced for now ({status}): {problem.reason}; retrying"


def _outcome(db: Session, row: OutboxEmail, problem: ContactProblem, *, escalated: bool, new: bool) -> BounceOutcome:
    ref = db.scalar(select(Case.ref).where(Case.id == row.case_id)) if row.case_id else None
    return BounceOutcome(row.id, ref, row.kind, problem.status_code, problem.hard, escalated, new)


def _soft_expired(problem: ContactProblem, now: datetime) -> bool:
    from tasks.deadlines.calendar_source import working_calendar

    due = working_calendar().add_working_days(_local_date(problem.since), SOFT_WORKING_DAYS)
    return _local_date(now) >= due


def _make_hard(db: Session, row: OutboxEmail, problem: ContactProblem, now: datetime) -> bool:
    """The email is now a contact problem: `bounced`, and escalated when it must be. True when
    the team was emailed now."""
    problem.hard = True
    row.status, row.claimed_by = "bounced", None
    row.last_error = f"bounced ({problem.status_code}): {problem.reason}"
    if row.kind in ESCALATE_KINDS and problem.recipient_role == "family" and problem.escalated_at is None:
        _escalate(db, row, problem, now)
        return True
    return False


def _escalate(db: Session, row: OutboxEmail, problem: ContactProblem, now: datetime) -> None:
    """Email the team today: the family did not get their certificate or appeal reminder
    (case reference, what, why and the appeal deadline — no name, no address)."""
    from tasks.mail.layout import long_date, render_email
    from tasks.mail.outbox import queue_email

    case = db.get(Case, row.case_id) if row.case_id else None
    ref = case.ref if case else "(no case)"
    deadline = (
        db.scalar(select(Clock.due).where(Clock.case_id == row.case_id, Clock.name == "appeal_deadline"))
        if row.case_id
        else None
    )
    what = KIND_WORDS.get(row.kind, row.kind)
    paras = [
        f"The {what} email for case {ref} could not be delivered: {problem.reason}.",
        "Phone the family today, or send it by post. Then record it with "
        f"`drs case contact {ref} --reached --by phone --on DATE`, or correct the address with "
        f"`drs case contact {ref} --email NEW` (the {what} is sent again to the new address).",
    ]
    key_dates = [("Case", ref), ("Appeal deadline", long_date(deadline) if deadline else "not known")]
    text, html = render_email(f"Phone the family today: {ref}", paras, greeting=None, key_dates=key_dates)
    settings = get_settings()
    queue_email(
        db,
        key=f"bounce-escalation:{row.id}",
        kind="bounce-escalation",
        to=settings.team_email,
        subject=f"Phone the family today: the {what} for case {ref} was not delivered",
        text=text,
        html=html,
        now=now,
        case_id=row.case_id,
    )
    problem.escalated_at = now


def promote_soft_problems(db: Session, now: datetime) -> list[BounceOutcome]:
    """Soft bounces still failing 3 working days after the first one become contact problems
    (the row was not delivered again after its last soft bounce). Commits nothing."""
    out = []
    soft = db.scalars(
        select(ContactProblem)
        .where(ContactProblem.resolved_at.is_(None), ContactProblem.hard.is_(False))
        .order_by(ContactProblem.id)
    ).all()
    for problem in soft:
        row = db.get(OutboxEmail, problem.outbox_id)
        if row is None or not _soft_expired(problem, now):
            continue
        if row.status == "sent" and row.sent_at is not None and row.sent_at > problem.last_seen_at:
            continue  # delivered again after the last soft bounce: not failing any more
        escalated = _make_hard(db, row, problem, now)
        audit(
            db,
            ACTOR,
            "email:bounced",
            row.case_id,
            now,
            {
                "outbox_id": row.id,
                "kind": row.kind,
                "status": problem.status_code,
                "after_working_days": SOFT_WORKING_DAYS,
            },
        )
        out.append(_outcome(db, row, problem, escalated=escalated, new=False))
    return out

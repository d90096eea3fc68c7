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
which names the address) and the outbox link are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.db import Case, Clock, ContactProblem, LocalAuthority, MediationSession, OutboxEmail, SessionAttendee
from tasks.cases.casework import audit
from tasks.settings import get_settings

ACTOR = "bounces"
#: soft bounces become a contact problem after this many working days of failing
SOFT_WORKING_DAYS = 3
#: emails the law (or the service's statutory duties) needs the recipient to receive; a correction re-sends them
STATUTORY_KINDS = frozenset(
    {
        "certificate",
        "alert-appeal-2-weeks",
        "alert-appeal-3-wd",
        "acknowledgement",
        "la-mediation-request",
        "session-invite",
        "session-update",
        "session-cancel",
    }
)
#: a bounce of these is escalated to the team at once (the family's appeal is at stake)
ESCALATE_KINDS = frozenset({"certificate", "alert-appeal-2-weeks", "alert-appeal-3-wd"})
KIND_WORDS = {
    "certificate": "mediation certificate",
    "alert-appeal-2-weeks": "appeal deadline reminder",
    "alert-appeal-3-wd": "appeal deadline reminder",
    "acknowledgement": "acknowledgement",
    "la-mediation-request": "mediation request to the LA",
    "claim-batch": "claims batch",
    "session-invite": "meeting invitation",
    "session-update": "meeting change",
    "session-cancel": "meeting cancellation",
}
LA_FIELDS = ("sen_team_email", "finance_email", "contract_email")
#: lines of "phone these families" in the daily digest
DIGEST_LIMIT = 50

#: RFC 3463 subject.detail → plain words (the class, 4 or 5, says whether it is still retried)
_REASONS = {
    "1.1": "the mailbox does not exist",
    "1.10": "the mailbox does not exist",
    "1.2": "the address's domain does not exist",
    "1.3": "the address is not valid",
    "1.6": "the mailbox has moved and left no new address",
    "2.1": "the mailbox is closed or disabled",
    "2.2": "the mailbox is full",
    "2.3": "the message is too large for the mailbox",
    "3.4": "the message is too large",
    "4.1": "the recipient's mail server does not answer",
    "4.4": "the recipient's mail server cannot be found",
    "4.7": "delivery took too long and was given up",
    "7.1": "the recipient's mail server refused our messages",
}
_REASONS_BY_SUBJECT = {
    "1": "the address is not valid",
    "2": "the mailbox cannot take messages",
    "3": "the recipient's mail system cannot take messages",
    "4": "the recipient's mail server cannot be reached",
    "5": "the recipient's mail server refused the message",
    "6": "the message could not be converted",
    "7": "the recipient's mail server refused our messages",
}
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")


def normalise_status(status: str) -> str:
    """A valid enhanced status ("5.1.1"), or the class alone ("5.0.0") for anything else."""
    status = (status or "").strip()
    if _STATUS.match(status):
        return status
    return "5.0.0" if status[:1] == "5" else "4.0.0"


def plain_reason(status: str) -> str:
    """The reason for `status` in plain words, for the team (never the server's own text)."""
    cls, subject, detail = normalise_status(status).split(".")
    words = _REASONS.get(f"{subject}.{detail}") or _REASONS_BY_SUBJECT.get(subject)
    if words is None:
        words = "the recipient's mail server refused the message" if cls == "5" else "delivery keeps being delayed"
    return words


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
    elif problem.resolved_at is not None:
        problem.last_seen_at = max(problem.last_seen_at, now)
        return _outcome(db, row, problem, escalated=False, new=False)
    else:
        problem.last_seen_at = max(problem.last_seen_at, now)
        if hard or not problem.hard:
            problem.status_code, problem.reason, problem.source = status, plain_reason(status), source
    if (
        not hard
        and not problem.hard
        and source == "dsn"
        and (action or "").lower() == "failed"
        and row.status == "sent"
    ):
        # the relay gave up on a temporary failure: retried by our delivery, as any 4xx is
        from tasks.mail.delivery import backoff

        row.status, row.next_attempt_at = "pending", now + backoff(max(row.attempts, 1))
        row.last_error = f"bounced for now ({status}): {problem.reason}; retrying"
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


# --- reading contact problems ---------------------------------------------------------------------


def _open_hard():
    return (ContactProblem.resolved_at.is_(None), ContactProblem.hard.is_(True))


def case_contact_problems(db: Session, case_id: int, *, redact: bool = False) -> list[dict]:
    """The contract's `contact_problems` of a case: open, hard (incl. soft ones past 3 WD).
    `redact`: an outbox key holding an address (some claim keys do) is left out (null)."""
    rows = db.execute(
        select(ContactProblem, OutboxEmail.key)
        .join(OutboxEmail, OutboxEmail.id == ContactProblem.outbox_id)
        .where(ContactProblem.case_id == case_id, ContactProblem.recipient_role != "team", *_open_hard())
        .order_by(ContactProblem.since, ContactProblem.id)
    )
    return [
        {
            "email": None if redact and "@" in key else key,
            "recipient_role": p.recipient_role,
            "reason": p.reason,
            "since": p.since.isoformat(),
            "statutory": bool(p.statutory),
        }
        for p, key in rows
    ]


def la_contact_problems(db: Session) -> dict[int, list[dict]]:
    """Open problems with LA register addresses, by LA id — those whose register field still
    holds the address that bounced (a corrected register shows none)."""
    out: dict[int, list[dict]] = {}
    rows = db.execute(
        select(ContactProblem, OutboxEmail.key, OutboxEmail.to_addr, LocalAuthority)
        .join(OutboxEmail, OutboxEmail.id == ContactProblem.outbox_id)
        .join(LocalAuthority, LocalAuthority.id == ContactProblem.la_id)
        .where(*_open_hard())
        .order_by(ContactProblem.since, ContactProblem.id)
    )
    for p, key, to_addr, la in rows:
        if p.la_field and (getattr(la, p.la_field) or "").strip().lower() != to_addr.strip().lower():
            continue
        out.setdefault(la.id, []).append(
            {
                "email": key,
                "field": p.la_field,
                "reason": p.reason,
                "since": p.since.isoformat(),
                "statutory": bool(p.statutory),
            }
        )
    return out


@dataclass(frozen=True)
class PhoneLine:
    case_ref: str
    kind: str
    role: str
    reason: str
    since: datetime
    statutory: bool

    def text(self, tz: ZoneInfo) -> str:
        what = KIND_WORDS.get(self.kind, self.kind)
        mark = ", statutory" if self.statutory else ""
        who = "" if self.role == "family" else f" to the {self.role}"
        return f"{self.case_ref} — {what}{who} not delivered: {self.reason} (since {self.since.astimezone(tz):%d %b}{mark})"


def phone_these_families(db: Session, limit: int | None = None) -> tuple[list[PhoneLine], int]:
    """Open contact problems on cases (not LA register addresses), oldest first, and how many."""
    stmt = (
        select(
            Case.ref,
            OutboxEmail.kind,
            ContactProblem.recipient_role,
            ContactProblem.reason,
            ContactProblem.since,
            ContactProblem.statutory,
        )
        .join(OutboxEmail, OutboxEmail.id == ContactProblem.outbox_id)
        .join(Case, Case.id == ContactProblem.case_id)
        .where(*_open_hard(), ContactProblem.recipient_role.not_in(("la", "team")), Case.anonymised_at.is_(None))
        .order_by(ContactProblem.since, ContactProblem.id)
    )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        PhoneLine(r.ref, r.kind, r.recipient_role, r.reason, r.since, bool(r.statutory)) for r in db.execute(stmt)
    ], total


def la_address_lines(db: Session) -> list[str]:
    """ "<LA code> <name> — <field> bounced: <reason>" for each LA register address to fix."""
    names = {la.id: la for la in db.scalars(select(LocalAuthority))}
    lines = []
    for la_id, problems in sorted(la_contact_problems(db).items(), key=lambda kv: names[kv[0]].code):
        la = names[la_id]
        for field in dict.fromkeys(p["field"] for p in problems):
            reason = next(p["reason"] for p in problems if p["field"] == field)
            lines.append(
                f"{la.code} {la.name} — {field or 'address'} bounced: {reason}; fix it in the register (drs la import)"
            )
    team = db.scalar(
        select(ContactProblem.reason)
        .join(OutboxEmail, OutboxEmail.id == ContactProblem.outbox_id)
        .where(
            *_open_hard(),
            ContactProblem.recipient_role == "team",
            func.lower(OutboxEmail.to_addr) == get_settings().team_email.strip().lower(),
        )
        .order_by(ContactProblem.since.desc())
        .limit(1)
    )
    if team:  # the team's own address bounces: its notices (escalations, digests) do not arrive (qa-15-17)
        lines.append(
            f"The team's address (DRS_TEAM_EMAIL) bounced: {team}; fix the setting — team notices are not arriving"
        )
    return lines


def digest_paragraphs(db: Session) -> list:
    """Paragraphs for the team's daily digest: the families to phone and LA addresses to fix."""
    tz = ZoneInfo(get_settings().timezone)
    lines, total = phone_these_families(db, DIGEST_LIMIT)
    out: list = []
    if lines:
        out.append(f"Phone these families ({total}): an email to them could not be delivered.")
        more = [f"… and {total - len(lines)} more (drs mail bounces lists them all)"] if total > len(lines) else []
        out.append([line.text(tz) for line in lines] + more)
    la_lines = la_address_lines(db)
    if la_lines:
        out.append("LA addresses that bounce:")
        out.append(la_lines)
    return out


# --- the synchronous path: the relay refuses the recipient during delivery ---------------------------


def smtp_rejection(exc: BaseException | None) -> str | None:
    """The enhanced status ("5.1.1", "4.2.2") of a recipient refused at RCPT or a message refused
    at DATA, found anywhere in `exc`'s chain; None for anything else (a dropped connection, our
    sender refused, a login failure). Without an enhanced code the reply's class is used ("5.0.0")."""
    import smtplib

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        reply: tuple[int, bytes | str] | None = None
        if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
            reply = next(iter(exc.recipients.values()))
        elif isinstance(exc, smtplib.SMTPDataError | smtplib.SMTPRecipientsRefused) or (
            type(exc) is smtplib.SMTPResponseException
        ):
            reply = (exc.smtp_code, exc.smtp_error)
        if reply is not None:
            code, text = reply
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            if not (400 <= int(code) < 600):
                return None
            m = re.match(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b", str(text))
            if m and m.group(1) == str(code)[0]:
                return ".".join(m.groups())
            return f"{str(code)[0]}.0.0"
        exc = exc.__cause__ or exc.__context__
    return None

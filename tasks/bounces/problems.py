"""Reading contact problems: a case's (the contract's `contact_problems`), the LA register
addresses that bounce, the families to phone (the `today` screen and the daily digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.db import Case, ContactProblem, LocalAuthority, OutboxEmail
from tasks.bounces.reasons import KIND_WORDS
from tasks.settings import get_settings

#: lines of "phone these families" in the daily digest
DIGEST_LIMIT = 50


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


def open_problem_summaries(db: Session) -> list[dict]:
    """Every open contact problem, references only: case, LA code, kind, role, reason, since."""
    rows = db.execute(
        select(ContactProblem, OutboxEmail.kind, OutboxEmail.key, Case.ref, LocalAuthority.code)
        .join(OutboxEmail, OutboxEmail.id == ContactProblem.outbox_id)
        .outerjoin(Case, Case.id == ContactProblem.case_id)
        .outerjoin(LocalAuthority, LocalAuthority.id == ContactProblem.la_id)
        .where(ContactProblem.resolved_at.is_(None), ContactProblem.hard.is_(True))
        .order_by(ContactProblem.since, ContactProblem.id)
    )
    return [
        {
            "case_ref": ref,
            "la": code,
            "kind": kind,
            "email": key if ":" in key and "@" not in key else None,
            "recipient_role": p.recipient_role,
            "reason": p.reason,
            "status": p.status_code,
            "since": p.since.isoformat(),
            "statutory": bool(p.statutory),
        }
        for p, kind, key, ref, code in rows
    ]

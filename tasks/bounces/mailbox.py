"""The bounce mailbox, read: each delivery-status notification matched to its outbox row by the
original Message-ID and recorded (`tasks.bounces.handling.record_bounce`), then moved to the
source's `processed` folder (`tasks.bounces.sources`).

A message is moved only after its outcome is committed; one that cannot be parsed is moved too
(counted as `not_bounces`), so nothing loops. The bounce-check job (`tasks.bounces.job`) calls
`read_bounce_mailbox`, then `promote_soft_bounces` and `list_contact_problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import OutboxEmail
from tasks.bounces.parse import BounceReport, parse_bounce
from tasks.bounces.sources import configured_sources
from tasks.db import unit_of_work
from tasks.settings import get_settings

#: a notice larger than this is not parsed (counted as not a bounce, moved like the others)
MAX_NOTICE_BYTES = 25 * 1024 * 1024


@dataclass
class MailboxReading:
    """What reading the bounce sources found (counts and case references only)."""

    read: int = 0
    bounces: int = 0
    hard: int = 0
    soft: int = 0
    escalated: int = 0
    not_bounces: int = 0
    unmatched: int = 0
    sources: list[str] = field(default_factory=list)
    case_refs: list[str] = field(default_factory=list)

    def add_case(self, ref: str | None) -> None:
        if ref and ref not in self.case_refs:
            self.case_refs.append(ref)


@dataclass(frozen=True)
class Promotion:
    """What `promote_soft_bounces` changed."""

    promoted: int = 0
    escalated: int = 0
    la_settled: int = 0
    case_refs: tuple[str, ...] = ()


# --- matching ---------------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9.\-]")
_OUTBOX_ID = re.compile(r"^<drs-outbox-(\d+)@", re.IGNORECASE)


def find_outbox_id(db: Session, message_id: str, recipient: str | None = None) -> int | None:
    """The outbox row whose sent message carried `message_id`, or None.

    Tries, in order: a stored per-row Message-ID column (when the outbox has one), the
    `<drs-outbox-N@domain>` form, and the key-derived form `tasks.mail.mailer.build_message` writes
    today (`<key with other characters as '.'>@<sender domain>`; ties are broken by the
    notice's final recipient, then the latest row).
    """
    mid = message_id.strip()
    if not mid.startswith("<"):
        mid = f"<{mid}>"
    column = getattr(OutboxEmail, "message_id", None)
    if column is not None:
        found = db.scalar(select(OutboxEmail.id).where(column.in_((mid, mid[1:-1]))))
        if found is not None:
            return found
    m = _OUTBOX_ID.match(mid)
    if m:
        return db.scalar(select(OutboxEmail.id).where(OutboxEmail.id == int(m.group(1))))
    local, _, domain = mid[1:-1].rpartition("@")
    sender_domain = get_settings().mail_from.rsplit("@", 1)[-1].lower() or "drs-flows.local"
    if not local or domain.lower() != sender_domain or _SAFE.search(local):
        return None
    pattern = local.replace(".", "_") + ("%" if len(local) >= 120 else "")
    candidates = db.execute(
        select(OutboxEmail.id, OutboxEmail.key, OutboxEmail.to_addr)
        .where(OutboxEmail.key.like(pattern))
        .order_by(OutboxEmail.id)
    ).all()
    matches = [c for c in candidates if _SAFE.sub(".", c.key)[:120] == local]
    if recipient and len(matches) > 1:
        same = [c for c in matches if c.to_addr.strip().lower() == recipient.strip().lower()]
        matches = same or matches
    return matches[-1].id if matches else None


# --- the steps ------------------------------------------------------------------------------------


def handle_message(raw: bytes, now: datetime, reading: MailboxReading) -> None:
    """Parse one notice and record it (its own transaction)."""
    from tasks.bounces.handling import record_bounce

    try:
        report: BounceReport | None = None
        if len(raw) <= MAX_NOTICE_BYTES:
            report = parse_bounce(message_from_bytes(raw, policy=policy.compat32))
    except Exception:  # a malformed message is not a bounce we can use; it is still moved
        report = None
    if report is None:
        reading.not_bounces += 1
        return
    reading.bounces += 1
    with unit_of_work() as db:
        outbox_id = next(
            (i for i in (find_outbox_id(db, mid, report.recipient) for mid in report.message_ids) if i is not None),
            None,
        )
        if outbox_id is None:
            reading.unmatched += 1
            return
        outcome = record_bounce(db, outbox_id, status=report.status, action=report.action, now=now, source="dsn")
        db.commit()
    if outcome is None:  # the row went between the match and the record (retention): nothing to count
        return
    if outcome.hard:
        reading.hard += 1
    else:
        reading.soft += 1
    reading.escalated += outcome.escalated
    reading.add_case(outcome.case_ref)


def read_bounce_mailbox(now: datetime, sources: list[Any] | None = None) -> MailboxReading:
    """Read every configured bounce source (or `sources`) and record what each notice says.
    Raises `BounceMailboxError` when a source cannot be read (what was read before stays
    recorded). No retries here: the next run, 15 minutes later, reads what is waiting."""
    reading = MailboxReading()
    for source in configured_sources(get_settings()) if sources is None else sources:
        reading.sources.append(source.label)
        with source:
            for name, raw in list(source.messages()):
                reading.read += 1
                handle_message(raw, now, reading)
                source.done(name)
    return reading


def promote_soft_bounces(now: datetime) -> Promotion:
    """Soft bounces still failing after 3 working days become contact problems; LA problems
    whose register address was corrected are settled (one transaction)."""
    from tasks.bounces.contact_fix import settle_la_problems
    from tasks.bounces.handling import promote_soft_problems

    with unit_of_work() as db:
        promoted = promote_soft_problems(db, now)
        settled = settle_la_problems(db, now)
        db.commit()
    refs = tuple(dict.fromkeys(o.case_ref for o in promoted if o.case_ref))
    return Promotion(len(promoted), sum(o.escalated for o in promoted), settled, refs)


def list_contact_problems() -> list[dict]:
    """The open contact problems (references, codes and reasons only)."""
    from tasks.bounces.problems import open_problem_summaries

    with unit_of_work() as db:
        return open_problem_summaries(db)

"""When an email ends `failed`, and how an admin puts it back: one place for both.

- `record_rejection(db, row, *, smtp_code, enhanced_status, reason, now)`: the recipient's mail
  server said no for good (a 5xx to RCPT or DATA; later also a bounce report). The row is `failed`
  at once, with the code and a plain-words reason, audited, and the team is told once. Commits
  nothing (the caller commits with the rest of its change).
- `record_gave_up(db, row, *, reason, now)`: the last of `MAX_ATTEMPTS` transient failures.
- `requeue_failed(db, *, keys, all_failed, now, actor)`: `drs mail retry` — failed rows back to
  `pending`, attempts reset, audited; the next delivery sends them.

Team notices are outbox rows keyed `delivery-failed:<outbox id>` (then `…:<n>` after the n-th
`drs mail retry`), so a failure is reported once however often the code runs. They name the case
reference and the command to retry — never the address.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Case, OutboxEmail
from models.errors import NotFound
from tasks.cases.casework import audit
from tasks.mail.outbox import queue_email
from tasks.settings import get_settings

ACTOR = "mail"


def retry_command(row: OutboxEmail) -> str:
    """The command that puts this email back in the queue."""
    return f"drs mail retry {shlex.quote(row.key)}"


def _case_ref(db: Session, row: OutboxEmail) -> str | None:
    return db.scalar(select(Case.ref).where(Case.id == row.case_id)) if row.case_id else None


def _fail(db: Session, row: OutboxEmail, *, reason: str, now: datetime, action: str, detail: dict) -> None:
    row.status = "failed"
    row.claimed_by = None
    row.last_error = reason[:1000]
    audit(db, ACTOR, action, row.case_id, now, {"outbox_id": row.id, "kind": row.kind, **detail})
    tell_team(db, row, now)


def record_rejection(
    db: Session, row: OutboxEmail, *, smtp_code: int | None, enhanced_status: str | None, reason: str, now: datetime
) -> None:
    """A permanent rejection of `row` (5xx): failed at once, no retries, team told once. Commits nothing.

    `reason` is plain words without an address (it goes to the team and the audit log's outbox row);
    `smtp_code`/`enhanced_status` are what the server replied (550, "5.1.1"), None when unknown.
    """
    from tasks.bounces.handling import record_bounce

    row.outcome = "permanent"
    row.smtp_code = smtp_code
    row.enhanced_status = enhanced_status
    bounce = record_bounce(
        db, row.id, status=enhanced_status or f"{(smtp_code or 550) // 100}.0.0", now=now, source="smtp"
    )
    if row.status == "bounced":  # a hard bounce (issue 15): a contact problem on the case or the LA register
        row.claimed_by = None
        audit(
            db,
            ACTOR,
            "mail:rejected",
            row.case_id,
            now,
            {"outbox_id": row.id, "kind": row.kind, "smtp_code": smtp_code, "enhanced_status": enhanced_status},
        )
        if not (bounce and bounce.escalated):  # an escalated certificate/appeal reminder already told the team
            tell_team(db, row, now)
        return
    _fail(
        db,
        row,
        reason=reason,
        now=now,
        action="mail:rejected",
        detail={"smtp_code": smtp_code, "enhanced_status": enhanced_status},
    )


def record_refused_for_now(
    db: Session, row: OutboxEmail, *, enhanced_status: str | None, smtp_code: int, now: datetime
) -> None:
    """A 4xx to RCPT or DATA: retried as any transient failure, and recorded as a soft bounce, which
    becomes a contact problem if it still fails after 3 working days (issue 15). Commits nothing."""
    from tasks.bounces.handling import record_bounce

    record_bounce(db, row.id, status=enhanced_status or f"{smtp_code // 100}.0.0", now=now, source="smtp")


def record_gave_up(db: Session, row: OutboxEmail, *, reason: str, now: datetime) -> None:
    """The last allowed attempt failed transiently: failed, team told once. Commits nothing."""
    _fail(
        db,
        row,
        reason=reason,
        now=now,
        action="mail:gave-up",
        detail={"attempts": row.attempts, "smtp_code": row.smtp_code},
    )


def tell_team(db: Session, row: OutboxEmail, now: datetime) -> None:
    """Queue one notice to the team about failed `row` (once per failure; never about the team's
    own notices, which would loop)."""
    team = get_settings().team_email
    if row.kind == "delivery-failed" or row.to_addr.lower() == team.lower():
        return
    case_ref = _case_ref(db, row)
    ref = f" for case {case_ref}" if case_ref else ""
    key = f"delivery-failed:{row.id}" + (f":{row.requeued}" if row.requeued else "")
    code = f" ({row.smtp_code}{' ' + row.enhanced_status if row.enhanced_status else ''})" if row.smtp_code else ""
    if row.outcome == "permanent":
        what = f"was refused by the recipient's mail server{code} and will not be retried by itself"
    else:
        what = f"could not be delivered after {row.attempts} attempts{code}"
    look = f"the address on the case (drs case show {case_ref})" if case_ref else "the address"
    if row.status == "bounced":
        fix = (
            f"correct the address with `drs case contact {case_ref} --email NEW` (it is sent again), or record "
            f"that the family was told another way with `drs case contact {case_ref} --reached --by phone --on DATE`."
            if case_ref
            else "if it is an LA's address, correct the LA register (`drs la import`): the next "
            f"bounce check sends it again; otherwise, once the address is right, `{retry_command(row)}`."
        )
        queue_email(
            db,
            key=key,
            kind="delivery-failed",
            to=team,
            now=now,
            subject=f"An email could not be delivered (outbox #{row.id}{', ' + case_ref if case_ref else ''})",
            text=(
                f"Outbox email #{row.id} ({row.kind}){ref} {what}.\nReason: {row.last_error}\n\n"
                f"The address is probably wrong: {fix}"
            ),
            case_id=row.case_id,
        )
        return
    queue_email(
        db,
        key=key,
        kind="delivery-failed",
        to=team,
        now=now,
        subject=f"An email could not be delivered (outbox #{row.id}{', ' + case_ref if case_ref else ''})",
        text=(
            f"Outbox email #{row.id} ({row.kind}){ref} {what}.\n"
            f"Reason: {row.last_error}\n\n"
            f"Please check {look} and the mail relay, then put it back in the queue with:\n\n"
            f"    {retry_command(row)}\n\n"
            f"(`drs mail retry --failed` retries every failed email.)"
        ),
        case_id=row.case_id,
    )


@dataclass
class Requeued:
    id: int
    key: str
    kind: str
    case_ref: str | None
    previous_error: str | None

    def as_dict(self) -> dict:
        return asdict(self)


class UnknownEmails(NotFound):
    """Some keys given to `drs mail retry` are in no outbox row (message lists them)."""


def requeue_failed(
    db: Session, *, keys: Iterable[str] = (), all_failed: bool = False, now: datetime, actor: str = "cli:mail-retry"
) -> tuple[list[Requeued], list[str]]:
    """Put failed emails back in the queue: the rows with `keys` (a key, or an outbox id as `12`
    or `#12`) and, with `all_failed`, every failed or bounced row (a bounce goes to the same address
    again: use it after fixing our own relay; a wrong address is fixed with `drs case contact`). Attempts reset to 0, due at once, audited.
    Returns (requeued, keys given that are not failed — already sent or still pending — or were
    emptied under the retention policy). Raises
    `UnknownEmails` before changing anything when a key matches no row. Commits nothing."""
    from tasks.privacy.retention import ANONYMISED_ADDRESS  # emptied under the retention policy: never re-sent

    rows: dict[int, OutboxEmail] = {}
    skipped: list[str] = []
    unknown: list[str] = []
    for given in keys:
        row = db.scalar(select(OutboxEmail).where(OutboxEmail.key == given))
        if row is None and given.lstrip("#").isdigit():
            row = db.get(OutboxEmail, int(given.lstrip("#")))
        if row is None:
            unknown.append(given)
        elif row.status not in ("failed", "bounced") or row.to_addr == ANONYMISED_ADDRESS:
            skipped.append(given)
        else:
            rows[row.id] = row
    if unknown:
        raise UnknownEmails("no email in the outbox with key " + ", ".join(repr(k) for k in unknown))
    if all_failed:
        for row in db.scalars(
            select(OutboxEmail).where(
                OutboxEmail.status.in_(("failed", "bounced")), OutboxEmail.to_addr != ANONYMISED_ADDRESS
            )
        ):
            rows.setdefault(row.id, row)
    done: list[Requeued] = []
    for row in sorted(rows.values(), key=lambda r: r.id):
        done.append(Requeued(row.id, row.key, row.kind, _case_ref(db, row), row.last_error))
        audit(
            db,
            actor,
            "mail:retry",
            row.case_id,
            now,
            {
                "outbox_id": row.id,
                "kind": row.kind,
                "attempts": row.attempts,
                "smtp_code": row.smtp_code,
                "enhanced_status": row.enhanced_status,
            },
        )
        row.status, row.attempts, row.requeued = "pending", 0, (row.requeued or 0) + 1
        row.claimed_by, row.claimed_at = None, None
        row.next_attempt_at = max(now, row.not_before) if row.not_before else now  # quiet hours still hold
    return done, skipped

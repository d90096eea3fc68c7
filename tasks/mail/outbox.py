"""Queue emails in the outbox table, in the caller's transaction (delivery is `tasks.mail.delivery`).

`queue_email` is idempotent by `key`: the same logical email is queued once, however often the
flow that causes it runs. Always one recipient per row.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.db import OutboxAttachment, OutboxEmail
from tasks.mail.attachment import Attachment


def new_message_id(key: str) -> str:
    """A Message-ID of its own for one outbox row, generated once and stored with it (a retry
    after an unknown outcome carries the same one): a hash of the key (never the key itself,
    which may name a case) plus a random part, at the sender's domain."""
    from tasks.settings import get_settings

    domain = get_settings().mail_from.rsplit("@", 1)[-1].strip().strip(">") or "drs-flows.invalid"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"<outbox.{digest}.{secrets.token_hex(8)}@{domain}>"


def queue_email(
    db: Session,
    *,
    key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    now: datetime,
    html: str | None = None,
    case_id: int | None = None,
    attachments: Sequence[Attachment] = (),
    not_before: datetime | None = None,
    known_new: bool = False,
) -> OutboxEmail | None:
    """Add one email to the outbox unless an email with `key` is already there.

    Returns the new row, or None when `key` was queued before (nothing changes). `to` must be
    a single address. Commits nothing. Under concurrent runs the unique key is the last guard:
    the loser's transaction fails and is retried by its caller. `known_new`: the caller knows no
    row has `key` (a key naming a case reference it just allocated) — no look-up; should one
    exist after all, the unique key refuses the insert and the caller's transaction fails.
    """
    values = outbox_row(key, kind, to, subject, text, html, case_id, not_before, now)
    if not known_new and key in existing_keys(db, (key,)):
        return None
    attached = [OutboxAttachment(filename=a.filename, mime_type=a.mime_type, content=a.content) for a in attachments]
    row = OutboxEmail(**values, attachments=attached)
    db.add(row)
    return row


def outbox_row(
    key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    case_id: int | None,
    not_before: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new pending outbox row (one recipient; its own Message-ID): the one way an
    outbox row is built (`queue_email`, `insert_emails` and the batched intake)."""
    if not to or "," in to or ";" in to:
        raise ValueError("an outbox email has exactly one recipient")
    return {
        "key": key,
        "kind": kind,
        "message_id": new_message_id(key),
        "to_addr": to.strip(),
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "case_id": case_id,
        "status": "pending",
        "attempts": 0,
        "not_before": not_before,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }


def insert_emails(db: Session, emails: Sequence[dict], now: datetime) -> int:
    """Add many attachment-less emails whose keys the caller knows are new (as `queue_email` would, without its per-key lookup):
    one bulk INSERT in the caller's transaction. Each of `emails` holds `key`, `kind`, `to`,
    `subject`, `text`, `html`, `case_id`, `not_before`. Returns how many were added."""
    rows = [
        outbox_row(e["key"], e["kind"], e["to"], e["subject"], e["text"], e["html"], e["case_id"], e["not_before"], now)
        for e in emails
    ]
    if rows:
        db.execute(insert(OutboxEmail), rows)
    return len(rows)


def existing_keys(db: Session, keys: Iterable[str], batch: int = 900) -> set[str]:
    """The keys among `keys` already in the outbox or pending in `db` (one query per `batch`
    keys, on the unique key: well under SQLite's and PostgreSQL's limits on bound parameters)."""
    unique = set(keys)
    wanted = sorted(unique)
    found = {p.key for p in db.new if isinstance(p, OutboxEmail) and p.key in unique}
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        found.update(db.scalars(select(OutboxEmail.key).where(OutboxEmail.key.in_(chunk))))
    return found

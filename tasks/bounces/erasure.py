"""Raw bounce notices about an anonymised case leave the bounce mailbox with it (qa-15-17).

A bounce notice (and an out-of-office reply) quotes the message we sent: the family's address,
name and often the whole text. Issue 15 keeps the raw notice in the mailbox's `processed`
folder and issue 17's retention empties that folder by age; erasure on request (`drs case
erase`) and retention of a case must also reach the notices about THAT case whatever their age.

A notice is "about the case" when it quotes the Message-ID of one of the case's outbox emails
(anywhere: report part, quoted headers, In-Reply-To, References, body text).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import OutboxEmail
from tasks.settings import Settings, get_settings


def case_message_ids(db: Session, case_ids: list[int]) -> set[str]:
    """The Message-IDs our mailer wrote for the outbox emails of `case_ids` (with the brackets)."""
    from tasks.mail.mailer import sender_domain

    domain = sender_domain(get_settings().mail_from)
    out: set[str] = set()
    for key, mid in db.execute(
        select(OutboxEmail.key, OutboxEmail.message_id).where(OutboxEmail.case_id.in_(case_ids))
    ):
        if mid:
            out.add(mid if mid.startswith("<") else f"<{mid}>")
        out.add(f"<key.{hashlib.sha256(key.encode()).hexdigest()[:24]}@{domain}>")  # rows sent before stored ids
    return out


def maildir_notices(message_ids: set[str], settings: Settings | None = None) -> list[Path]:
    """The processed (and unread) Maildir notices quoting one of `message_ids`."""
    from tasks.bounces.sources import PROCESSED

    settings = settings or get_settings()
    root = settings.bounce_maildir_path
    if not message_ids or root is None:
        return []
    wanted = [m.encode().lower() for m in message_ids] + [m[1:-1].encode().lower() for m in message_ids]
    found = []
    for folder in (root / f".{PROCESSED}" / "cur", root / f".{PROCESSED}" / "new", root / "cur", root / "new"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                raw = path.read_bytes().lower() if path.is_file() else b""
            except OSError:
                continue
            if any(w in raw for w in wanted):
                found.append(path)
    return found


def remove_imap_notices(message_ids: set[str], settings: Settings | None = None) -> int:
    """Delete the IMAP `processed` messages quoting one of `message_ids` (IMAP TEXT search covers
    headers and body). Returns how many."""
    from tasks.bounces.sources import PROCESSED, ImapSource

    settings = settings or get_settings()
    if not message_ids or not settings.bounce_imap_host:
        return 0
    uids: set[bytes] = set()
    with ImapSource(settings) as source:
        conn = source.imap
        if conn.select(PROCESSED)[0] != "OK":
            return 0
        for mid in message_ids:
            typ, data = conn.uid("SEARCH", "TEXT", '"' + mid[1:-1].replace('"', "") + '"')
            if typ == "OK":
                uids.update((data[0] or b"").split())
        if uids:
            conn.uid("STORE", b",".join(sorted(uids)).decode(), "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    return len(uids)

"""The database side of sending one claimed batch: its rows read at once, and cheap per-message commits.

Delivery commits each outcome before the next message is sent, so that a delivery process killed
at any point re-sends at most the one message in flight (with its stored Message-ID; the kill
torture test holds it to that). What made that slow was not the commit but the disk flush behind
it (SQLite `synchronous=FULL`: one fsync a message, ~5–15 ms here) and a read or two per message.

`batch_session()` turns the flush off for its own connection only, for the batch:
- SQLite in WAL mode, `PRAGMA synchronous=NORMAL`: a commit is in the WAL file (written, not yet
  flushed) when it returns, so it survives the process being killed; only an OS crash or power
  loss can undo the last commits before the next checkpoint;
- PostgreSQL keeps `synchronous_commit` on: the scale-out database is shared by machines whose
  crashes are independent, and there a lost outcome would mean a family emailed twice after a
  database-server crash. Its commits stay durable (the lead's choice at merge, issue 14).
An outcome lost on SQLite that way leaves its row in `sending`, taken back and re-sent with the
same Message-ID — the same path as a killed delivery today, for a few more rows, and only after
an OS crash or power loss. Every other writer of the database keeps its flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, selectinload

from models.db import OutboxEmail
from tasks.db import get_engine
from tasks.mail.outbox import new_message_id


@contextmanager
def batch_session() -> Iterator[Session]:
    """A session on ONE connection held for the block, whose commits do not wait for the disk
    (see the module docstring); the connection gets its usual setting back before it returns to
    the pool. Commits only when the caller calls `db.commit()`."""
    with get_engine().connect() as conn:
        undo = _no_sync(conn)
        db = Session(bind=conn, expire_on_commit=False)
        try:
            yield db
        finally:
            db.rollback()
            db.close()
            if conn.in_transaction():
                conn.rollback()
            try:
                for statement in undo:
                    conn.execute(text(statement))
                conn.commit()
            except Exception:  # noqa: BLE001 — never give a connection with the flush off back to the pool
                conn.invalidate()
                raise


def _no_sync(conn: Connection) -> list[str]:
    """Turn the flush off on `conn`; returns the statements that turn it back on."""
    dialect = conn.dialect.name
    undo: list[str] = []
    if dialect == "sqlite":
        before = conn.execute(text("PRAGMA synchronous")).scalar()
        if conn.execute(text("PRAGMA journal_mode")).scalar() == "wal":  # outside WAL, NORMAL may lose a commit
            conn.execute(text("PRAGMA synchronous=NORMAL"))
            undo = [f"PRAGMA synchronous={int(before if before is not None else 2)}"]
    conn.commit()
    return undo


def claimed_rows(db: Session, ids: list[int], worker: str) -> list[OutboxEmail]:
    """The rows of `ids` claimed by `worker`, attachments loaded, in id order. A row queued before
    Message-IDs were stored gets one now, committed before anything is sent (one commit for all)."""
    if not ids:
        return []
    rows = list(
        db.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.id.in_(ids), OutboxEmail.status == "sending", OutboxEmail.claimed_by == worker)
            .options(selectinload(OutboxEmail.attachments))
            .order_by(OutboxEmail.id)
        )
    )
    missing = [row for row in rows if row.message_id is None]
    for row in missing:
        row.message_id = new_message_id(row.key)
    if missing:
        db.commit()
    return rows


def still_claimed(db: Session, email_id: int, worker: str) -> bool:
    """Is the row still `sending` for `worker`? (Read anew: another worker may have taken over a
    stale claim since the batch was read.)"""
    found = db.execute(
        select(OutboxEmail.status, OutboxEmail.claimed_by).where(OutboxEmail.id == email_id)
    ).one_or_none()
    return found is not None and found.status == "sending" and found.claimed_by == worker

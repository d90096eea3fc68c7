"""Database access: one cached engine per URL and a unit of work that rolls back unless committed.

Nothing is created at import. `unit_of_work()` yields a SQLAlchemy `Session` — called `db`
in this code base, because a *session* here is a mediation meeting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tasks.settings import get_settings


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """The process-wide engine for `url` (SQLite gets WAL, a busy timeout and foreign keys)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def get_engine() -> Engine:
    return engine_for(get_settings().db_url)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """A database transaction: commits only when the caller calls `db.commit()`; else rolls back."""
    engine = engine_for(url) if url else get_engine()
    db = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        yield db
    finally:
        db.rollback()
        db.close()

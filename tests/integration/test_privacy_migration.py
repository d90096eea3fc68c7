"""Issue 17: migration 0014 rewrites old outbox keys that held an address, keeps them unique and
idempotent, dates old audit lines, and installs the append-only trigger (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from models.db.migrate import alembic_config, upgrade
from tasks.privacy.keys import address_token


def test_0014_rewrites_keys_with_addresses(drs_env, database_url):
    command.downgrade(alembic_config(database_url), "0013")
    engine = create_engine(database_url)
    old = {
        "claim-sent:B-2024-01:DRS-2024-00001:Family@Example.org": "claim-sent:B-2024-01:DRS-2024-00001:"
        + address_token("family@example.org"),
        "monthly-report:2024-04:contracts@la.example.org": "monthly-report:2024-04:"
        + address_token("contracts@la.example.org"),
        "monthly-report:2024-04:contracts@la.example.org:resend-1": "monthly-report:2024-04:"
        + address_token("contracts@la.example.org")
        + ":resend-1",
        "ack:DRS-2024-00001": "ack:DRS-2024-00001",
    }
    with engine.begin() as conn:
        for n, key in enumerate(old, 1):
            conn.execute(
                text(
                    "INSERT INTO outbox (id, key, kind, to_addr, subject, body_text, status, attempts, "
                    "next_attempt_at, created_at) VALUES (:id, :key, 'x', 'a@b.example', 's', 't', 'sent', 0, "
                    "'2024-05-01 10:00:00', '2024-05-01 10:00:00')"
                ),
                {"id": n, "key": key},
            )
        conn.execute(
            text("INSERT INTO audit_log (id, at, actor, action) VALUES (1, '2024-05-01 10:00:00', 'cli', 'x')")
        )
    engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT id, key FROM outbox ORDER BY id")).all())
        assert list(keys.values()) == list(old.values())
        assert not [k for k in keys.values() if "@" in k]
        recorded = conn.execute(text("SELECT recorded_at, at FROM audit_log WHERE id = 1")).one()
        assert recorded[0] == recorded[1]
    with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM audit_log"))
    engine.dispose()
    # the code builds the same key, so a re-run of the old email finds it (idempotent)
    from datetime import datetime

    from tasks.db import unit_of_work
    from tasks.mail.outbox import queue_email

    with unit_of_work() as db:
        again = queue_email(
            db,
            key="claim-sent:B-2024-01:DRS-2024-00001:" + address_token(" FAMILY@example.org "),
            kind="claim-sent",
            to="family@example.org",
            subject="s",
            text="t",
            now=datetime(2024, 5, 2, tzinfo=UTC),
        )
        assert again is None

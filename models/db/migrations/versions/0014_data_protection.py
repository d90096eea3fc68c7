"""Data protection (issue 17): legal hold on cases, a trustworthy audit trail, no addresses in keys.

- cases.legal_hold_reason / legal_hold_since / legal_hold_by: a case on hold is never anonymised.
- audit_log.recorded_at (the real wall-clock time, beside `at`, the effective time of `--now`) and
  audit_log.operator (the person: DRS_OPERATOR, the OS user, or the dashboard form's "your name").
  Existing rows get recorded_at = at (the best we know) and no operator.
- audit_log is append-only: a trigger refuses UPDATE and DELETE (SQLite and PostgreSQL).
- outbox keys that held an email address (`claim-sent:<batch>:<ref>:<address>`,
  `monthly-report:<month>:<address>[:resend-n]`) are rewritten with a hash of the address
  (`a-<16 hex>`), as the code now builds them, so no key holds personal data.

Revision ID: 0014
Revises: 0013
"""
import hashlib

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_log is append-only: entries cannot be changed or deleted"


def _token(address: str) -> str:
    """Same as `tasks.privacy.keys.address_token` (kept here so the migration never changes)."""
    return "a-" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:16]


def _rewrite_key(key: str) -> str | None:
    parts = key.split(":")
    changed = False
    for i, part in enumerate(parts):
        if "@" in part:
            parts[i] = _token(part)
            changed = True
    return ":".join(parts)[:200] if changed else None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_hold_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("legal_hold_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("legal_hold_by", sa.String(length=120), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("operator", sa.String(length=120), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE audit_log SET recorded_at = at WHERE recorded_at IS NULL"))

    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("key", sa.String))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.key).where(outbox.c.key.like("%@%"))).all()
    for row_id, key in rows:
        new = _rewrite_key(key)
        if new is not None:
            bind.execute(outbox.update().where(outbox.c.id == row_id).values(key=new))

    if bind.dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
                           BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("operator")
        batch_op.drop_column("recorded_at")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("legal_hold_by")
        batch_op.drop_column("legal_hold_since")
        batch_op.drop_column("legal_hold_reason")

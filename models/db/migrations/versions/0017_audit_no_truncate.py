"""qa-15-17: the audit log's append-only guard also refuses TRUNCATE on PostgreSQL.

0014's row triggers refuse UPDATE and DELETE, but `TRUNCATE audit_log` fires no row trigger and
emptied the whole trail. A statement-level BEFORE TRUNCATE trigger (same function) refuses it.
SQLite has no TRUNCATE (its `DELETE FROM` without WHERE fires 0014's row trigger): nothing to do.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")

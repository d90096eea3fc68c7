"""certificates.approval_note (who approved or refused an automatic certificate, and why) and
certificates.status widened from 16 to 20 characters ("awaiting_approval" is 17); expense_claims.miles
kept to two decimal places (12.25 miles × rate, not 12.3 × rate).

A revision of its own, after 0007, so that databases already at 0007 (whose 0003 and 0005 were
empty) receive these changes too.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_note", sa.String(length=500), nullable=True))
        batch_op.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=20),
                              existing_nullable=False)
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.alter_column("miles", existing_type=sa.Numeric(precision=8, scale=1),
                              type_=sa.Numeric(precision=9, scale=2), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.alter_column("miles", existing_type=sa.Numeric(precision=9, scale=2),
                              type_=sa.Numeric(precision=8, scale=1), existing_nullable=True)
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=20), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.drop_column("approval_note")

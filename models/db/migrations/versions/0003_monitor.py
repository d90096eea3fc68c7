"""monitor: certificates.approval_note (who approved or refused an automatic certificate, and why);
certificates.status widened from 16 to 20 characters ("awaiting_approval" is 17)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_note", sa.String(length=500), nullable=True))
        batch_op.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=20),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=20), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.drop_column("approval_note")

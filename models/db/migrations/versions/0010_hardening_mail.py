"""Issue 12 §2 (SMTP outcomes): each outbox row keeps its own Message-ID and what the mail server
last said about it.

- `message_id`: generated once when the row is queued (rows queued before this revision get one
  on their next delivery attempt), so a retry after an unknown outcome carries the same Message-ID
  and the receiving side can de-duplicate.
- `outcome`: the class of the last attempt (`sent`, `transient`, `permanent`, `unknown`,
  `unreachable`); `smtp_code` and `enhanced_status` (e.g. 550 and 5.1.1) what the server replied.
- `requeued`: how many times an admin put the row back in the queue (`drs mail retry`).

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("smtp_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("enhanced_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("requeued", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ux_outbox_message_id", ["message_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ux_outbox_message_id")
        batch_op.drop_column("requeued")
        batch_op.drop_column("enhanced_status")
        batch_op.drop_column("smtp_code")
        batch_op.drop_column("outcome")
        batch_op.drop_column("message_id")

"""Schema changes for issue 15 (bounces and contact problems): the `contact_problems` table.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("la_id", sa.Integer(), nullable=True),
        sa.Column("recipient_role", sa.String(length=16), nullable=False),
        sa.Column("la_field", sa.String(length=24), nullable=True),
        sa.Column("status_code", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=160), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("statutory", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=24), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resent_outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_contact_problems_outbox_id_outbox"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_contact_problems_case_id_cases"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["la_id"], ["local_authorities.id"],
                                name=op.f("fk_contact_problems_la_id_local_authorities"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resent_outbox_id"], ["outbox.id"],
                                name=op.f("fk_contact_problems_resent_outbox_id_outbox"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_problems")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_contact_problems_outbox_id")),
    )
    op.create_index(op.f("ix_contact_problems_case_id"), "contact_problems", ["case_id"])
    op.create_index(op.f("ix_contact_problems_la_id"), "contact_problems", ["la_id"])
    op.create_index("ix_contact_problems_open", "contact_problems", ["resolved_at", "hard"])


def downgrade() -> None:
    op.drop_index("ix_contact_problems_open", table_name="contact_problems")
    op.drop_index(op.f("ix_contact_problems_la_id"), table_name="contact_problems")
    op.drop_index(op.f("ix_contact_problems_case_id"), table_name="contact_problems")
    op.drop_table("contact_problems")

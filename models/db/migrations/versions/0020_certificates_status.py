"""issue 14: an index on certificates (status, trigger_on) for the team's `today` screen.

The screen lists the certificates awaiting approval, oldest trigger first, on every monitor run:
without an index that read the whole `certificates` table (≈ 540,000 rows at national scale) to
find, on most days, a handful.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_certificates_status_trigger", "certificates", ["status", "trigger_on"])


def downgrade() -> None:
    op.drop_index("ix_certificates_status_trigger", table_name="certificates")

"""issue 14: an index on clocks (name, state) for the monitor's certificate query.

`tasks.deadlines.due_certificates.certificate_work` asks for the open or missed
`certificate_due` clocks: with only `(state, target)` it read every open clock (≈ 1.4 s at 100,000
cases on SQLite, growing with the open cases); with `(name, state)` it reads the few it wants.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clocks_name_state", "clocks", ["name", "state"])


def downgrade() -> None:
    op.drop_index("ix_clocks_name_state", table_name="clocks")

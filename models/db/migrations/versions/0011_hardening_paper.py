"""Schema changes for issue 12 §3 (certificates, money limits): the LA register's sanity limits.

`la_policies` gains four nullable columns; NULL means the built-in default of
`models.domain.expenses` (README "Expense claims"): `max_miles` (miles on one mileage claim),
`max_item_pence` (one claim line), `max_meeting_pence` (one claimant's claims for one meeting),
`remittance_days` (how long after a claim was sent its paid_on date may be).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (
    ("max_miles", sa.Numeric(9, 2)),
    ("max_item_pence", sa.Integer()),
    ("max_meeting_pence", sa.Integer()),
    ("remittance_days", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("la_policies") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("la_policies") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)

"""issue 14: two indexes on cases for the monitor's daily refresh (`tasks.deadlines.refresh`).

- `ix_cases_rules_version`: `refresh_clocks` asks every day for the cases not closed whose clocks
  were computed under another rule set (`rules_version` NULL or not the current one). With no
  index on `rules_version` that read the whole `cases` table (1,000,000 rows at national scale) to
  find, on an ordinary day, none; with this index (and the test written as `IS NULL OR < v OR > v`,
  which an index can answer) it reads only the cases it wants.
- `ix_cases_wants_status`: `record_web_form_declines` asks for the cases whose family said "no" on
  the web form, still new or informed: through `(status, la_id)` that read every new or informed
  case (≈ 67,000 at national scale) to find, on an ordinary day, none.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_rules_version", "cases", ["rules_version"])
    op.create_index("ix_cases_wants_status", "cases", ["wants_mediation", "status"])


def downgrade() -> None:
    op.drop_index("ix_cases_wants_status", table_name="cases")
    op.drop_index("ix_cases_rules_version", table_name="cases")

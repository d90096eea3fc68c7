"""issue 14: three indexes for the monthly report's loader (`tasks.reporting.load`).

- `ix_clocks_due_name` (`clocks (due, name)`): the clocks due in the month and the agreement
  follow-ups due in the year to date. With no index on `due` that read every clock (5.6 million
  at national scale, ≈ 7 s of a 1M-case report) to keep ≈ 142,000; `name` is in the index so the
  follow-ups' name test is answered from it.
- `ix_case_events_on` (`case_events (on)`): the cases with anything recorded in the month (the
  case list), which `(event, on)` cannot answer for every event type: a scan of every event.
- `ix_cases_received_on` (`cases (received_on)`): the cases received in the month and the
  year to date (a scan of every case, twice).

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clocks_due_name", "clocks", ["due", "name"])
    op.create_index("ix_case_events_on", "case_events", ["on"])
    op.create_index("ix_cases_received_on", "cases", ["received_on"])


def downgrade() -> None:
    op.drop_index("ix_cases_received_on", table_name="cases")
    op.drop_index("ix_case_events_on", table_name="case_events")
    op.drop_index("ix_clocks_due_name", table_name="clocks")

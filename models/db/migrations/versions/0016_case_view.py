"""Issue 16 (what the case view says): no schema change — `clocks.met_on` exists since 0001 and
`late_wd` is derived from it on every read. Data only: a case whose mediation concluded and whose
certificate is not yet issued was stored as `certificate-pending`; its status is now
`mediation-concluded` (models/domain/status.py). Downgrade puts the old status back.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The events that change a case's status (frozen copy of the rule in models/domain/status.py as
# of this revision; `information-given` cannot move a case that is already past `new`).
_STATUS_EVENTS = ("closed", "mediation-requested", "mediation-declined", "la-cannot-arrange", "withdrawn",
                  "mediation-concluded", "certificate-issued")

_cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("status", sa.String))
_events = sa.table("case_events", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                   sa.column("event", sa.String), sa.column("on", sa.Date))


def _concluded_last(status: str) -> list[int]:
    """Ids of cases in `status` whose latest status-changing event is `mediation-concluded`."""
    rows = op.get_bind().execute(
        sa.select(_events.c.case_id, _events.c.event)
        .join(_cases, _cases.c.id == _events.c.case_id)
        .where(_cases.c.status == status, _events.c.event.in_(_STATUS_EVENTS))
        .order_by(_events.c.case_id, _events.c.on, _events.c.id))
    last: dict[int, str] = {}
    for case_id, event in rows:
        last[case_id] = event
    return [case_id for case_id, event in last.items() if event == "mediation-concluded"]


def _set_status(ids: list[int], status: str) -> None:
    for start in range(0, len(ids), 500):
        op.get_bind().execute(_cases.update().where(_cases.c.id.in_(ids[start:start + 500])).values(status=status))


def upgrade() -> None:
    _set_status(_concluded_last("certificate-pending"), "mediation-concluded")


def downgrade() -> None:
    _set_status(_concluded_last("mediation-concluded"), "certificate-pending")

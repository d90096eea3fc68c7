"""The team's daily digest rows: clocks due in the next working days and missed ones, by LA.

Pure (``digest_rows``); ``tasks.deadlines.digest`` queues the email and builds the artifacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from models.domain.alert_policy import DEFAULT_POLICY, AlertPolicy, audiences_for
from models.domain.alerts import WatchedClock
from models.domain.calendar import WorkingCalendar

__all__ = ["DigestRow", "digest_rows", "group_by"]


@dataclass(frozen=True)
class DigestRow:
    """One line of the team's morning view (references and dates only)."""

    la_code: str
    case_ref: str
    clock: str
    due: date
    target: date
    state: str  # "open" or "missed"
    owner: str
    working_days_left: int


def digest_rows(
    clocks: Iterable[WatchedClock], today: date, calendar: WorkingCalendar, policy: AlertPolicy = DEFAULT_POLICY
) -> list[DigestRow]:
    """Clocks the team or an LA must act on: target within the next ``digest_horizon_wd`` working
    days (today included) and missed ones (within ``missed_lookback_days``), grouped by LA code,
    then by target. Family-owned clocks are left out (the family gets its own reminders)."""
    horizon = calendar.add_working_days(today, policy.digest_horizon_wd)
    rows = []
    for c in clocks:
        if c.state not in ("open", "missed") or not audiences_for(c.owner, policy):
            continue
        if c.target < today:
            if (today - c.target).days > policy.missed_lookback_days:
                continue
            state = "missed"
        elif c.target <= horizon:
            state = "open"
        else:
            continue
        rows.append(
            DigestRow(
                la_code=c.la_code,
                case_ref=c.case_ref,
                clock=c.name,
                due=c.due,
                target=c.target,
                state=state,
                owner=c.owner,
                working_days_left=calendar.working_days_between(today, c.target),
            )
        )
    return sorted(rows, key=lambda r: (r.la_code, r.state != "missed", r.target, r.case_ref, r.clock))


def group_by(rows: Sequence[DigestRow]) -> dict[str, list[DigestRow]]:
    """Digest rows by LA code, in order."""
    out: dict[str, list[DigestRow]] = {}
    for row in rows:
        out.setdefault(row.la_code, []).append(row)
    return out

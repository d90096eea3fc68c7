"""Which clocks the daily sweep reads: only those that can alert or be in today's digest (issue 14).

The sweep's window used to be every open or missed clock with a target from `missed_lookback_days`
ago to `horizon_days` ahead — at national scale ≈ 93,000 rows a day, most of them decided "nothing"
every day: the family's own missed clocks (no one is alerted about them, the digest leaves them out)
and clocks due weeks ahead. `AlertWindow` narrows it, in SQL, to the rows for which
`models.domain.alerts.alerts_due` or `models.domain.digest.digest_rows` can say something today:

- clocks the team or an LA is told about (owner in the policy's `team_owners` or `la_owners`) with
  a target before the `lead + 1`-th working day after today, `lead` the longest due-soon lead time
  or the digest's horizon (`team_before`): a later target is neither due soon
  (`working_days_between(today, target) > lead`) nor in the digest (after
  `add_working_days(today, digest_horizon_wd)`);
- the family's `appeal_deadline` while open, due from today to the later of `appeal_reminder_days`
  ahead and `appeal_reminder_wd` working days ahead (`appeal_due_until`): a reminder needs
  `today <= due` and `today >= due - appeal_reminder_days` or
  `today >= subtract_working_days(due, appeal_reminder_wd)`.

Both are on top of the old window's bounds, never instead of them, so the rows read are a subset
of the old ones and every row left out is one the pure rules decide "nothing" for; the decisions
themselves are still made in Python by the same pure functions (a test compares both windows day
by day: `tests/integration/test_sweep_window.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import String, and_, case, cast, exists, or_

from models.db import Case, Clock, OutboxEmail
from models.domain.alerts import LA, MISSED, TEAM, AlertPolicy
from models.domain.calendar import WorkingCalendar

APPEAL_DEADLINE = "appeal_deadline"


@dataclass(frozen=True)
class AlertWindow:
    """The dates bounding what can alert or be in the digest on `today` (see the module)."""

    since: date  # targets on or after (the missed look-back)
    until: date  # targets on or before (the old window's horizon)
    team_before: date  # team- and LA-told clocks: targets before this
    appeal_due_until: date  # the family's appeal deadline: due on or before this (and from today)
    told: tuple[str, ...]  # owners the team or an LA is told about

    def where(self, today: date):
        """The WHERE clause over `clocks` (no join needed: every term is the clock's own column)."""
        team = and_(Clock.owner.in_(self.told), Clock.target < self.team_before) if self.told else None
        appeal = and_(
            Clock.name == APPEAL_DEADLINE,
            Clock.state == "open",
            Clock.due >= today,
            Clock.due <= self.appeal_due_until,
        )
        return and_(
            Clock.state.in_(("open", "missed")),
            Clock.target >= self.since,
            Clock.target <= self.until,
            appeal if team is None else or_(team, appeal),
        )


def alert_window(today: date, calendar: WorkingCalendar, policy: AlertPolicy) -> AlertWindow:
    """The window of `today` under `policy` (pure; the policy's numbers are 0 or more)."""
    lead = max(policy.due_soon_wd, policy.digest_horizon_wd, *policy.due_soon_wd_by_clock.values())
    return AlertWindow(
        since=today - timedelta(days=policy.missed_lookback_days),
        until=today + timedelta(days=policy.horizon_days),
        team_before=calendar.add_working_days(today, lead + 1),
        appeal_due_until=max(
            today + timedelta(days=policy.appeal_reminder_days),
            calendar.add_working_days(today, policy.appeal_reminder_wd),
        ),
        told=tuple(sorted(policy.team_owners | policy.la_owners)),
    )


def missed_alert_queued(today: date) -> list:
    """Two columns for the window query: for a clock missed before `today`, the outbox key of its
    `missed` alert to the team, then to the LA, when that key is already in the outbox (else NULL).

    At national scale ≈ 28,000 of a day's ≈ 34,000 alerts are `missed` alerts queued on an earlier
    day; SQL finds them in the same query (one probe of the unique key each) instead of tens of
    `IN (...)` look-ups from Python. The key is written as `models.domain.alerts.alert_key` writes
    it (`alert:<ref>:<clock>:missed:<target>:<audience>`) and only a key that IS in the outbox is
    returned: `tasks.deadlines.alert_queue` looks up every key not returned as before, so a key
    written differently here (another date style on PostgreSQL, say) only costs the look-up.
    """
    prefix = "alert:" + Case.ref + ":" + Clock.name + f":{MISSED}:" + cast(Clock.target, String) + ":"
    columns = []
    for audience in (TEAM, LA):
        key = prefix + audience
        queued = case((exists().where(OutboxEmail.key == key), key), else_=None)
        columns.append(case((Clock.target < today, queued), else_=None).label(f"{audience}_missed_queued"))
    return columns

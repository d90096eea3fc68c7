"""Which deadline alerts are due today: a pure function of (clocks, today, calendar, policy).

``alerts_due`` decides; ``tasks.deadlines.sweep`` carries the decisions out (outbox rows, each sent once
by its key). Nothing here reads the clock or touches a database: the same inputs always give
the same alerts, so the rules are table-tested over Christmas, Easter, August and DST weekends.

Kinds (CONTRACT / issue #4):

* ``due-soon``  — the clock's working-day ``target`` is within the next ``due_soon_wd`` working
  days (default 2), today excluded;
* ``due-today`` — ``target`` is today;
* ``missed``    — today is after ``target`` and the clock is not met (state open or missed);
* ``appeal-2-weeks`` / ``appeal-3-wd`` — the family's plain reminder of their own
  ``appeal_deadline``: two weeks (calendar) and three working days before it, only when the
  certificate was issued or is not needed and no appeal is recorded. Only the latest reminder
  that applies is given, so a catch-up run never sends a stale one.

Who is told (``audiences``): provider-owned clocks (adviser, mediator: certificates, notice,
informing the LA) → the team; LA- and ICB-owned clocks (``mediation_by``, ``icb_notify_by``,
agreement follow-ups) → the LA's SEN team *and* the team; family-owned clocks → only the family
reminders above (``contact_adviser_by`` is history by the time a case exists).

Times (``not_before_for``): team email lands in office hours (working days, 09:00-17:00),
family email outside quiet hours (08:00-20:00 any day, `models.domain.quiet_hours`). Both are policy
(``models.domain.alert_policy``); the digest's rows are ``models.domain.digest``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from models.domain.alert_policy import (
    ALL_KINDS,
    APPEAL_2_WEEKS,
    APPEAL_3_WD,
    DEFAULT_POLICY,
    DUE_SOON,
    DUE_TODAY,
    FAMILY,
    LA,
    MISSED,
    TEAM,
    AlertPolicy,
    audiences_for,
    not_before_for,
    policy_from_mapping,
)
from models.domain.calendar import WorkingCalendar

# The policy's names are re-exported here: the alert rules and their policy are read together.
__all__ = [
    "ALL_KINDS",
    "APPEAL_2_WEEKS",
    "APPEAL_3_WD",
    "DEFAULT_POLICY",
    "DUE_SOON",
    "DUE_TODAY",
    "FAMILY",
    "LA",
    "MISSED",
    "TEAM",
    "Alert",
    "AlertPolicy",
    "WatchedClock",
    "alert_key",
    "alerts_due",
    "not_before_for",
    "policy_from_mapping",
]


@dataclass(frozen=True)
class WatchedClock:
    """A persisted clock with the case facts the alert rules need (references only).

    ``certificate_settled``: the case's certificate was issued or is not needed (only read for
    ``appeal_deadline``). ``appeal_lodged``: the family told us they appealed.
    """

    case_ref: str
    la_code: str
    name: str
    due: date
    target: date
    state: str  # open | met | missed | not_applicable
    owner: str  # family | adviser | mediator | la | icb
    level: str = ""
    started_on: date | None = None
    note: str = ""
    case_id: int | None = None
    certificate_settled: bool = False
    appeal_lodged: bool = False


@dataclass(frozen=True)
class Alert:
    """One decision: tell ``audiences`` that ``clock`` of ``case_ref`` is at ``kind``."""

    case_ref: str
    clock: str
    kind: str
    due: date
    target: date
    owner: str
    audiences: tuple[str, ...]
    la_code: str = ""
    level: str = ""
    note: str = ""
    case_id: int | None = None
    working_days_left: int = 0  # negative when missed: working days late

    @property
    def for_family(self) -> bool:
        return self.kind in (APPEAL_2_WEEKS, APPEAL_3_WD)


def alert_key(alert: Alert, audience: str) -> str:
    """The outbox key: ``alert:<case_ref>:<clock>:<kind>:<target>:<audience>``.

    One email per (case, clock, kind, audience) for a given target date: a second run, or a
    re-run of a failed one, is silent; a *new* deadline on the same clock (a second certificate
    trigger, a moved appeal deadline) is a new alert.
    """
    return f"alert:{alert.case_ref}:{alert.clock}:{alert.kind}:{alert.target.isoformat()}:{audience}"


def _team_alert(clock: WatchedClock, today: date, calendar: WorkingCalendar, policy: AlertPolicy) -> Alert | None:
    audiences = audiences_for(clock.owner, policy)
    if not audiences or clock.state not in ("open", "missed"):
        return None
    left = calendar.working_days_between(today, clock.target)
    if clock.target == today:
        kind = DUE_TODAY
    elif clock.target < today:
        if (today - clock.target).days > policy.missed_lookback_days:
            return None
        kind = MISSED
    elif left <= policy.lead_wd(clock.name):
        kind = DUE_SOON
    else:
        return None
    if kind not in policy.kinds:
        return None
    return _alert(clock, kind, audiences, left)


def _family_reminder(clock: WatchedClock, today: date, calendar: WorkingCalendar, policy: AlertPolicy) -> Alert | None:
    if clock.name != "appeal_deadline" or clock.state != "open":
        return None
    if clock.appeal_lodged or not clock.certificate_settled or today > clock.due:
        return None
    three_wd = calendar.subtract_working_days(clock.due, policy.appeal_reminder_wd)
    two_weeks = clock.due - timedelta(days=policy.appeal_reminder_days)
    if today >= three_wd and APPEAL_3_WD in policy.kinds:
        kind = APPEAL_3_WD
    elif two_weeks <= today < three_wd and APPEAL_2_WEEKS in policy.kinds:
        kind = APPEAL_2_WEEKS
    else:
        return None
    return _alert(clock, kind, (FAMILY,), calendar.working_days_between(today, clock.target))


def _alert(clock: WatchedClock, kind: str, audiences: tuple[str, ...], left: int) -> Alert:
    return Alert(
        case_ref=clock.case_ref,
        clock=clock.name,
        kind=kind,
        due=clock.due,
        target=clock.target,
        owner=clock.owner,
        audiences=audiences,
        la_code=clock.la_code,
        level=clock.level,
        note=clock.note,
        case_id=clock.case_id,
        working_days_left=left,
    )


def alerts_due(
    clocks: Iterable[WatchedClock], today: date, calendar: WorkingCalendar, policy: AlertPolicy = DEFAULT_POLICY
) -> list[Alert]:
    """Return the alerts due on ``today`` (a Europe/London date), sorted by target, case, clock.

    At most one team alert and one family reminder per clock: the most urgent that applies
    today. Clocks met or not applicable never alert.
    """
    out: list[Alert] = []
    for clock in clocks:
        for decide in (_team_alert, _family_reminder):
            alert = decide(clock, today, calendar, policy)
            if alert is not None:
                out.append(alert)
    return sorted(out, key=lambda a: (a.target, a.case_ref, a.clock, a.kind))

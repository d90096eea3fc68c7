"""Which deadline alerts are due today: a pure function of (clocks, today, calendar, policy).

``alerts_due`` decides; ``tasks.deadlines.monitor`` carries the decisions out (outbox rows, each sent once
by its key). Nothing here reads the clock or touches a database: the same inputs always give
the same alerts, so the rules are table-tested over Christmas, Easter, August and DST weekends.

Kinds (README.md "Deadlines, alerts and certificates"; issue #4):

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
family email outside quiet hours (08:00-20:00 any day, `models.domain.quiet_hours`). Both are policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from models.domain.calendar import WorkingCalendar
from models.domain.quiet_hours import QUIET_END, QUIET_START, family_not_before

__all__ = [
    "Alert",
    "AlertPolicy",
    "DEFAULT_POLICY",
    "DigestRow",
    "WatchedClock",
    "alert_key",
    "alerts_due",
    "digest_rows",
    "group_by",
    "not_before_for",
    "policy_from_mapping",
]

DUE_SOON, DUE_TODAY, MISSED = "due-soon", "due-today", "missed"
APPEAL_2_WEEKS, APPEAL_3_WD = "appeal-2-weeks", "appeal-3-wd"
ALL_KINDS = (DUE_SOON, DUE_TODAY, MISSED, APPEAL_2_WEEKS, APPEAL_3_WD)
TEAM, LA, FAMILY = "team", "la", "family"


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


@dataclass(frozen=True)
class AlertPolicy:
    """Lead times and levels; every number here is configuration, not law.

    ``kinds`` are the alert levels in use (drop one to silence it). ``due_soon_wd_by_clock``
    overrides the lead time per clock name (prefix match for ``agreement_``).
    ``missed_lookback_days``: a clock missed longer ago than this is not re-announced (it was
    announced when it was missed; the digest keeps listing it).
    """

    due_soon_wd: int = 2
    due_soon_wd_by_clock: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    kinds: frozenset[str] = frozenset({DUE_SOON, DUE_TODAY, MISSED, APPEAL_2_WEEKS, APPEAL_3_WD})
    appeal_reminder_days: int = 14  # calendar days before appeal_deadline
    appeal_reminder_wd: int = 3  # working days before appeal_deadline
    team_owners: frozenset[str] = frozenset({"adviser", "mediator"})
    la_owners: frozenset[str] = frozenset({"la", "icb"})
    missed_lookback_days: int = 60
    digest_horizon_wd: int = 5
    office_opens: time = time(9, 0)
    office_closes: time = time(17, 0)
    family_quiet_until: time = QUIET_END
    family_quiet_from: time = QUIET_START

    def lead_wd(self, clock_name: str) -> int:
        for prefix, value in self.due_soon_wd_by_clock.items():
            if clock_name == prefix or (prefix.endswith("_") and clock_name.startswith(prefix)):
                return value
        return self.due_soon_wd

    @property
    def horizon_days(self) -> int:
        """Calendar days ahead the sweep must read so that no alert or digest row is missed."""
        longest_wd = max(
            [self.due_soon_wd, self.digest_horizon_wd, self.appeal_reminder_wd, *self.due_soon_wd_by_clock.values()]
        )
        # n working days never span more than 2n + 12 calendar days (weekends, Christmas, Easter)
        return max(self.appeal_reminder_days, 2 * longest_wd + 12)


DEFAULT_POLICY = AlertPolicy()


def alert_key(alert: Alert, audience: str) -> str:
    """The outbox key: ``alert:<case_ref>:<clock>:<kind>:<target>:<audience>``.

    One email per (case, clock, kind, audience) for a given target date: a second run, or a
    re-run of a failed one, is silent; a *new* deadline on the same clock (a second certificate
    trigger, a moved appeal deadline) is a new alert.
    """
    return f"alert:{alert.case_ref}:{alert.clock}:{alert.kind}:{alert.target.isoformat()}:{audience}"


def _audiences(clock: WatchedClock, policy: AlertPolicy) -> tuple[str, ...]:
    if clock.owner in policy.la_owners:
        return (LA, TEAM)
    if clock.owner in policy.team_owners:
        return (TEAM,)
    return ()


def _team_alert(clock: WatchedClock, today: date, calendar: WorkingCalendar, policy: AlertPolicy) -> Alert | None:
    audiences = _audiences(clock, policy)
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
        if c.state not in ("open", "missed") or not _audiences(c, policy):
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


def _next_office_moment(local_now: datetime, calendar: WorkingCalendar, opens: time, closes: time) -> datetime:
    day = local_now.date()
    if calendar.is_working_day(day) and opens <= local_now.time() < closes:
        return local_now
    if calendar.is_working_day(day) and local_now.time() < opens:
        return datetime.combine(day, opens, tzinfo=local_now.tzinfo)
    return datetime.combine(calendar.next_working_day_after(day), opens, tzinfo=local_now.tzinfo)


def not_before_for(
    audience: str, local_now: datetime, calendar: WorkingCalendar, policy: AlertPolicy = DEFAULT_POLICY
) -> datetime | None:
    """When an email to ``audience`` may go, given ``local_now`` (aware, service time zone):
    ``None`` for at once, else the first allowed moment (team and LA: office hours on working
    days; family: outside quiet hours)."""
    if audience == FAMILY:  # the one family-quiet-hours rule
        assert local_now.tzinfo is not None
        return family_not_before(local_now, local_now.tzinfo, policy.family_quiet_from, policy.family_quiet_until)
    moment = _next_office_moment(local_now, calendar, policy.office_opens, policy.office_closes)
    return None if moment == local_now else moment


def policy_from_mapping(values: Mapping[str, object] | None, base: AlertPolicy = DEFAULT_POLICY) -> AlertPolicy:
    """``base`` with the integer lead times in ``values`` replaced (unknown keys raise ``ValueError``)."""
    if not values:
        return base
    if not isinstance(values, Mapping):
        raise ValueError(f"alert policy: expected an object of settings, got {type(values).__name__}")
    allowed = {"due_soon_wd", "appeal_reminder_days", "appeal_reminder_wd", "missed_lookback_days", "digest_horizon_wd"}
    changes: dict[str, object] = {}
    for key, value in values.items():
        if key == "kinds" and isinstance(value, list) and all(isinstance(k, str) and k in ALL_KINDS for k in value):
            changes["kinds"] = frozenset(value)
        elif (
            key == "due_soon_wd_by_clock"
            and isinstance(value, Mapping)
            and all(isinstance(k, str) and _count(v, POLICY_MAXIMA["due_soon_wd"]) for k, v in value.items())
        ):
            changes[key] = MappingProxyType(dict(value))
        elif key in allowed and _count(value, POLICY_MAXIMA[key]):
            changes[key] = value
        else:
            hint = f" (kinds are: {', '.join(ALL_KINDS)})" if key == "kinds" else ""
            if key in POLICY_MAXIMA or key == "due_soon_wd_by_clock":
                hint = f" (a whole number from 0 to {POLICY_MAXIMA.get(key, POLICY_MAXIMA['due_soon_wd'])})"
            raise ValueError(f"alert policy: bad setting {key!r}={value!r}{hint}")
    return dataclasses.replace(base, **changes)


#: Upper bounds of the policy's numbers: a larger one cannot be meant, and a huge one made dates
#: overflow and stopped the monitor (qa-12). Working days ~ 3 months; days ~ a year / ten years.
POLICY_MAXIMA = {
    "due_soon_wd": 60,
    "appeal_reminder_days": 366,
    "appeal_reminder_wd": 60,
    "missed_lookback_days": 3660,
    "digest_horizon_wd": 60,
}


def _count(value: object, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def group_by(rows: Sequence[DigestRow]) -> dict[str, list[DigestRow]]:
    """Digest rows by LA code, in order."""
    out: dict[str, list[DigestRow]] = {}
    for row in rows:
        out.setdefault(row.la_code, []).append(row)
    return out

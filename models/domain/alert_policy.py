"""The alert policy: lead times, alert kinds in use, who is told, and when email may land.

Every number here is configuration, not law (`$DRS_HOME/alert-policy.json` changes them, read by
`policy_from_mapping`). Times (``not_before_for``): team and LA email lands in office hours
(working days, 09:00-17:00), family email outside quiet hours (08:00-20:00 any day).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from types import MappingProxyType
from typing import Any

from models.domain.calendar import WorkingCalendar
from models.domain.quiet_hours import QUIET_END, QUIET_START, family_not_before

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
    "POLICY_MAXIMA",
    "TEAM",
    "AlertPolicy",
    "audiences_for",
    "not_before_for",
    "policy_from_mapping",
]

DUE_SOON, DUE_TODAY, MISSED = "due-soon", "due-today", "missed"
APPEAL_2_WEEKS, APPEAL_3_WD = "appeal-2-weeks", "appeal-3-wd"
ALL_KINDS = (DUE_SOON, DUE_TODAY, MISSED, APPEAL_2_WEEKS, APPEAL_3_WD)
TEAM, LA, FAMILY = "team", "la", "family"


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


def audiences_for(owner: str, policy: AlertPolicy) -> tuple[str, ...]:
    """Who is told about a clock of `owner`: LA- and ICB-owned → the LA and the team;
    provider-owned → the team; family-owned → nobody (the family gets its own reminders)."""
    if owner in policy.la_owners:
        return (LA, TEAM)
    if owner in policy.team_owners:
        return (TEAM,)
    return ()


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
    changes: dict[str, Any] = {}  # each value checked above against its field
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

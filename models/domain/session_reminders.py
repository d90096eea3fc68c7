"""The reminder schedule of mediation meetings, as pure rules (the job: `tasks.sessions.job`).

Each attendee gets one reminder per offset (default 7 days and 1 working day before, at the
meeting's local time of day), exactly once per session version; the mediator gets a "record the
outcome" nudge after the end time when no outcome is recorded. Nothing goes out in quiet hours
(:mod:`models.domain.quiet_hours`): a message due then waits for 08:00. Standard library only;
never reads the clock (``now`` and the time zone are arguments); results in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo

from models.domain.calendar import WorkingCalendar
from models.domain.quiet_hours import QUIET_END, QUIET_START, quiet_adjust

__all__ = [
    "DEFAULT_OFFSETS",
    "OUTCOME_KIND",
    "AttendeeSnapshot",
    "ReminderDue",
    "ReminderOffset",
    "ReminderPolicy",
    "SessionSnapshot",
    "parse_offset",
    "reminder_key",
    "reminder_time",
    "reminders_due",
]

OUTCOME_KIND = "outcome"


_OFFSET = re.compile(r"^\s*(\d{1,3})\s*(wd|d|h)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReminderOffset:
    """How long before the start a reminder is due: calendar days, working days or hours.

    ``kind`` is its name in outbox keys ('7d', '1wd', '3h')."""

    kind: str
    days: int = 0
    working_days: int = 0
    hours: int = 0


def parse_offset(text: str) -> ReminderOffset:
    """'7d' (calendar days), '1wd' (working days) or '3h' (hours) -> :class:`ReminderOffset`.
    Raises ``ValueError`` for anything else or a zero offset."""
    match = _OFFSET.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"reminder offset {text!r} is not like 7d, 1wd or 3h")
    n, unit = int(match.group(1)), match.group(2).lower()
    kind = f"{n}{unit}"
    if unit == "d":
        return ReminderOffset(kind, days=n)
    if unit == "wd":
        return ReminderOffset(kind, working_days=n)
    return ReminderOffset(kind, hours=n)


DEFAULT_OFFSETS: tuple[ReminderOffset, ...] = (parse_offset("7d"), parse_offset("1wd"))


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders go. ``nudge_delay``: after the end, the mediator's "record the outcome"
    nudge; ``nudge_window``: after that it is no longer sent (a flow that was down all day
    does not nudge about old meetings)."""

    offsets: tuple[ReminderOffset, ...] = DEFAULT_OFFSETS
    quiet_start: time = QUIET_START
    quiet_end: time = QUIET_END
    nudge_delay: timedelta = timedelta(minutes=30)
    nudge_window: timedelta = timedelta(hours=14)

    @classmethod
    def from_texts(cls, texts: Sequence[str] | None) -> ReminderPolicy:
        if not texts:
            return cls()
        offsets = tuple(parse_offset(t) for t in texts)
        if len({o.kind for o in offsets}) != len(offsets):
            raise ValueError("the same reminder offset is given twice")
        return cls(offsets=offsets)

    @property
    def horizon(self) -> timedelta:
        """How far ahead of a meeting the earliest reminder can be (for loading candidates)."""
        return max(
            (timedelta(days=o.days + 3 * o.working_days + 7, hours=o.hours) for o in self.offsets),
            default=timedelta(days=1),
        )


def _wall(moment: datetime, tz: tzinfo) -> datetime:
    """Normalise a local wall-clock datetime (possibly in a DST gap) through UTC."""
    return moment.astimezone(UTC).astimezone(tz)


def reminder_time(start: datetime, offset: ReminderOffset, calendar: WorkingCalendar, tz: tzinfo) -> datetime:
    """When the reminder ``offset`` before a meeting starting at ``start`` is due (UTC).

    Days and working days keep the meeting's local time of day (a 10:00 meeting on Monday
    26 Oct 2026, after the clocks go back, has its 7-day reminder at 10:00 BST on 19 Oct);
    '1wd' is the previous working day (bank holidays skipped). Hours are exact elapsed hours.
    """
    if offset.hours:
        return (start - timedelta(hours=offset.hours)).astimezone(UTC)
    local = start.astimezone(tz)
    day = local.date() - timedelta(days=offset.days)
    if offset.working_days:
        day = calendar.subtract_working_days(day, offset.working_days)
    wall = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
    return _wall(wall, tz).astimezone(UTC)


@dataclass(frozen=True)
class AttendeeSnapshot:
    attendee_id: int
    role: str  # family | supporter | la | icb | mediator | other


@dataclass(frozen=True)
class SessionSnapshot:
    """A meeting as the reminder rules see it. ``version_at``: when the current version
    (``sequence``) was booked or rescheduled; only attendees with an email address."""

    session_id: int
    sequence: int
    start: datetime
    end: datetime
    version_at: datetime
    status: str  # scheduled | cancelled | held
    outcome_recorded: bool = False
    attendees: tuple[AttendeeSnapshot, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReminderDue:
    """One reminder to queue now. ``not_before`` is set when ``now`` is in quiet hours."""

    session_id: int
    attendee_id: int
    kind: str  # an offset's kind ('7d', '1wd') or 'outcome'
    sequence: int
    due_at: datetime
    not_before: datetime | None = None
    superseded: tuple[str, ...] = ()  # earlier kinds, also due, that this one replaces

    @property
    def key(self) -> str:
        return reminder_key(self.session_id, self.attendee_id, self.kind, self.sequence)


def reminder_key(session_id: int, attendee_id: int, kind: str, sequence: int) -> str:
    """The outbox key that makes a reminder exactly-once per (session, attendee, kind, version)."""
    return f"reminder:{session_id}:{attendee_id}:{kind}:{sequence}"


def reminders_due(
    sessions: Iterable[SessionSnapshot],
    now: datetime,
    calendar: WorkingCalendar,
    tz: tzinfo,
    policy: ReminderPolicy = ReminderPolicy(),
) -> list[ReminderDue]:
    """The reminders and nudges due at ``now`` (the caller drops those already queued by key).

    For a *scheduled* meeting that has not started: per attendee, an offset is due when its
    time, moved out of quiet hours, has come, and it was not already past when this version
    was booked (the invitation itself covers that). When several are due at once (the flow
    was down), only the latest goes; the others are listed in ``superseded`` and never sent.
    The mediator's nudge is due ``nudge_delay`` after the end (moved out of quiet hours) when
    no outcome is recorded, for ``nudge_window``. Cancelled and held meetings get nothing.
    Queued during quiet hours, a reminder carries ``not_before`` = the next 08:00.
    """
    now = now.astimezone(UTC)

    def adjust(moment: datetime) -> datetime:
        return quiet_adjust(moment, tz, policy.quiet_start, policy.quiet_end)

    hold = adjust(now)
    not_before = hold if hold != now else None
    due: list[ReminderDue] = []
    for s in sessions:
        if s.status != "scheduled":
            continue
        if now < s.start:
            times = [(o.kind, reminder_time(s.start, o, calendar, tz)) for o in policy.offsets]
            ready = sorted(
                ((at, kind) for kind, at in times if at >= s.version_at and adjust(at) <= now), key=lambda p: p[0]
            )
            if ready:
                at, kind = ready[-1]
                earlier = tuple(k for _, k in ready[:-1])
                for a in s.attendees:
                    due.append(ReminderDue(s.session_id, a.attendee_id, kind, s.sequence, at, not_before, earlier))
        elif not s.outcome_recorded:
            at = s.end + policy.nudge_delay
            send = adjust(at)
            if send <= now < send + policy.nudge_window:
                for a in s.attendees:
                    if a.role == "mediator":
                        due.append(ReminderDue(s.session_id, a.attendee_id, OUTCOME_KIND, s.sequence, at, not_before))
    return due

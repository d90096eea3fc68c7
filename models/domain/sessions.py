"""Mediation meetings as pure rules: booking validation, notice, reminder schedule, quiet hours.

Standard library only; never reads the clock (``now`` and the time zone are arguments). All
datetimes are timezone-aware; results are returned in UTC unless a docstring says otherwise.

* **Booking** (:func:`check_booking`): the end after the start, the start not before ``now``,
  no overlap with another scheduled meeting of the same mediator or at the same venue (venues
  compared by :func:`venue_key`; online-only meetings never clash on venue). A meeting is
  about 2 hours by default (:data:`DEFAULT_DURATION`, domain/service.md).
* **Notice** (:func:`notice_by`): 5 working days before the meeting day, the meeting day
  excluded (reg 37, VERIFIED wording); booking after that date needs the family's agreement.
* **Reminders** (:func:`reminders_due`): each attendee gets one reminder per offset (default
  7 days and 1 working day before, at the meeting's local time of day), exactly once per
  session version; the mediator gets a "record the outcome" nudge after the end time when no
  outcome is recorded. Nothing goes out in quiet hours (20:00-08:00 local): a message due then
  waits for 08:00 (:func:`quiet_adjust`), correct on both DST Sundays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from models.domain.calendar import WorkingCalendar
from models.errors import InvalidInput

__all__ = [
    "AttendeeSnapshot",
    "Booking",
    "BookingError",
    "DEFAULT_DURATION",
    "DEFAULT_OFFSETS",
    "ReminderDue",
    "ReminderOffset",
    "ReminderPolicy",
    "SessionSnapshot",
    "check_booking",
    "default_end",
    "inside_notice",
    "local_time_text",
    "notice_by",
    "parse_offset",
    "quiet_adjust",
    "reminder_key",
    "reminder_time",
    "reminders_due",
    "venue_key",
]

DEFAULT_DURATION = timedelta(hours=2)  # "meetings usually last about 2 hours" (service.md)
QUIET_START = time(20, 0)
QUIET_END = time(8, 0)
OUTCOME_KIND = "outcome"
UTC = UTC


class BookingError(InvalidInput):
    """A booking that breaks a rule; the message says which (no personal data)."""


# --- booking --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Booking:
    """A meeting's slot as the booking rules see it (``session_id`` None for a new one)."""

    mediator_id: int
    start: datetime
    end: datetime
    venue: str | None = None
    session_id: int | None = None


def venue_key(venue: str | None) -> str | None:
    """The venue as compared for double-booking: case, spaces and punctuation ignored."""
    if not venue:
        return None
    key = " ".join(re.sub(r"[^0-9a-z]+", " ", venue.lower()).split())
    return key or None


def default_end(start: datetime, duration: timedelta = DEFAULT_DURATION) -> datetime:
    """The end of a meeting starting at ``start`` when none is given (2 hours later)."""
    return start + duration


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BookingError(f"{name} needs a time zone")


def local_time_text(moment: datetime, tz: tzinfo) -> str:
    """'Monday 26 October 2026 10:00 GMT' — a moment in the service's local time."""
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y %H:%M} {local.tzname()}"


def check_booking(candidate: Booking, existing: Iterable[Booking], now: datetime, tz: tzinfo) -> None:
    """Raise :class:`BookingError` for the first rule ``candidate`` breaks, else return None.

    ``existing`` are the other *scheduled* meetings (a row with the candidate's own
    ``session_id`` is ignored, so a reschedule does not clash with itself). Intervals are
    half-open: a meeting may start when another ends.
    """
    _aware(candidate.start, "start")
    _aware(candidate.end, "end")
    _aware(now, "now")
    if candidate.end <= candidate.start:
        raise BookingError("the end must be after the start")
    if candidate.start < now:
        raise BookingError(f"the start ({local_time_text(candidate.start, tz)}) is in the past")
    place = venue_key(candidate.venue)
    for other in existing:
        if candidate.session_id is not None and other.session_id == candidate.session_id:
            continue
        if not (other.start < candidate.end and candidate.start < other.end):
            continue
        when = f"{local_time_text(other.start, tz)} to {other.end.astimezone(tz):%H:%M}"
        if other.mediator_id == candidate.mediator_id:
            raise BookingError(f"the mediator is already booked then (session {other.session_id}, {when})")
        if place is not None and venue_key(other.venue) == place:
            raise BookingError(f"the venue is already booked then (session {other.session_id}, {when})")


def notice_by(starts_on: date, calendar: WorkingCalendar, notice_wd: int = 5) -> date:
    """The last day written notice of a meeting on ``starts_on`` can be given: ``notice_wd``
    working days before it, the meeting day excluded (reg 37; Code ch.11; VERIFIED wording).
    Same rule as the ``notice_by`` clock in :mod:`models.domain.clocks`."""
    return calendar.subtract_working_days(starts_on, notice_wd)


def inside_notice(starts_on: date, booked_on: date, calendar: WorkingCalendar, notice_wd: int = 5) -> bool:
    """True when booking on ``booked_on`` gives less than the statutory notice."""
    return booked_on > notice_by(starts_on, calendar, notice_wd)


# --- quiet hours ----------------------------------------------------------------------------
def quiet_adjust(
    moment: datetime, tz: tzinfo, quiet_start: time = QUIET_START, quiet_end: time = QUIET_END
) -> datetime:
    """``moment`` itself when outside quiet hours, else the next ``quiet_end`` (08:00) local.

    Quiet hours run from ``quiet_start`` (20:00) to ``quiet_end`` (08:00) local time. The
    08:00 is a wall-clock time built on the local date, so it is 07:00 UTC in summer time and
    08:00 UTC in winter, including the two DST Sundays. Returned in UTC.
    """
    local = moment.astimezone(tz)
    wall = local.timetz().replace(tzinfo=None)
    if quiet_end <= wall < quiet_start:
        return moment.astimezone(UTC)
    day = local.date() if wall < quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet_end, tzinfo=tz).astimezone(UTC)


def in_quiet_hours(moment: datetime, tz: tzinfo) -> bool:
    return quiet_adjust(moment, tz) != moment.astimezone(UTC)


# --- reminder schedule ----------------------------------------------------------------------
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
    adjust = lambda m: quiet_adjust(m, tz, policy.quiet_start, policy.quiet_end)  # noqa: E731
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

"""Mediation meetings as pure rules: booking validation and notice.

Standard library only; never reads the clock (``now`` and the time zone are arguments). All
datetimes are timezone-aware; results are returned in UTC unless a docstring says otherwise.

* **Booking** (:func:`check_booking`): the end after the start, the start not before ``now``,
  no overlap with another scheduled meeting of the same mediator or at the same venue (venues
  compared by :func:`venue_key`; online-only meetings never clash on venue). A meeting is
  about 2 hours by default (:data:`DEFAULT_DURATION`, README "Mediation meetings").
* **Notice** (:func:`notice_by`): 5 working days before the meeting day, the meeting day
  excluded (reg 37, VERIFIED wording); booking after that date needs the family's agreement.

The reminder schedule is :mod:`models.domain.session_reminders`; the quiet-hours rule
(20:00-08:00 local) is :mod:`models.domain.quiet_hours`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from models.domain.calendar import WorkingCalendar
from models.errors import InvalidInput

__all__ = [
    "Booking",
    "BookingError",
    "DEFAULT_DURATION",
    "check_booking",
    "default_end",
    "inside_notice",
    "local_time_text",
    "notice_by",
    "venue_key",
]

DEFAULT_DURATION = timedelta(hours=2)  # "meetings usually last about 2 hours" (README)
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

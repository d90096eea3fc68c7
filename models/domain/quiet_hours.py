"""THE family-quiet-hours rule: nothing goes to a family (or any meeting attendee) from 20:00 to 08:00.

One rule for every email a person outside the team receives: session invitations, updates,
cancellations and reminders (`tasks.sessions`), the acknowledgement of a referral
(`tasks.intake.records`), appeal reminders and certificates (`models.domain.alerts.not_before_for`
for the family audience). A message due in quiet hours waits for 08:00 local, correct on both
DST Sundays. Standard library only; never reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

__all__ = ["QUIET_END", "QUIET_START", "family_not_before", "in_quiet_hours", "quiet_adjust"]

QUIET_START = time(20, 0)
QUIET_END = time(8, 0)


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


def family_not_before(
    moment: datetime, tz: tzinfo, quiet_start: time = QUIET_START, quiet_end: time = QUIET_END
) -> datetime | None:
    """When an email queued at ``moment`` may go to a family: ``None`` for at once, else the next
    ``quiet_end`` (08:00) local, in ``tz``."""
    held = quiet_adjust(moment, tz, quiet_start, quiet_end)
    return None if held == moment.astimezone(UTC) else held.astimezone(tz)
